package io.layerswarm.libp2p.kad;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.host.PeerStore;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link KadDht} on a libp2p {@link Host}: serves {@value KadDht#PROTOCOL} streams (unless in
 * client mode), sends requests on fresh streams and adds peers whose identify record lists the kad
 * protocol to the routing table.
 */
public final class KadHostBinding implements KadTransport, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KadHostBinding.class);
    /** How long identify may take before a new connection's protocols are looked at. */
    private static final Duration IDENTIFY_WAIT = Duration.ofSeconds(10);
    private static final long IDENTIFY_POLL_MS = 200;

    private final Host host;
    private final Duration requestTimeout;
    private final KadDht dht;
    private final ConnectionListener listener;
    private final List<BiConsumer<PeerId, Boolean>> identifiedObservers = new CopyOnWriteArrayList<>();

    private KadHostBinding(Host host, KadConfig config, Duration requestTimeout) {
        this.host = host;
        this.requestTimeout = requestTimeout;
        this.dht = new KadDht(host.peerId().bytes(), this::selfAddrs, this, config);
        this.listener = new ConnectionListener() {
            @Override
            public void connected(Connection c) {
                watchIdentify(c, System.nanoTime() + IDENTIFY_WAIT.toNanos());
            }
        };
    }

    /**
     * Creates the DHT on {@code host} and registers its protocol handler (server mode only).
     *
     * @param requestTimeout bound on dial plus one request/response exchange
     */
    public static KadHostBinding attach(Host host, KadConfig config, Duration requestTimeout) {
        KadHostBinding b = new KadHostBinding(host, config, requestTimeout);
        if (!config.clientMode()) {
            host.setStreamHandler(KadDht.PROTOCOL, b::initInbound);
        }
        host.addConnectionListener(b.listener);
        return b;
    }

    /**
     * Runs {@code observer} each time identify of a new connection's peer has been looked at, with
     * whether the peer serves kad (and was therefore offered to the routing table); on an event loop.
     */
    public void onPeerIdentified(BiConsumer<PeerId, Boolean> observer) {
        identifiedObservers.add(Objects.requireNonNull(observer, "observer"));
    }

    /** The DHT. */
    public KadDht dht() {
        return dht;
    }

    /**
     * Dials the seeds (each with a trailing {@code /p2p/<id>}) and joins the DHT through them.
     *
     * @return completes with the routing table size
     */
    public CompletableFuture<Integer> bootstrap(List<Multiaddr> seeds) {
        List<KadPeer> peers = new ArrayList<>();
        for (Multiaddr seed : seeds) {
            PeerId id = seed.valueOf(MultiaddrProtocol.P2P).map(PeerId::parse).orElseThrow(() ->
                    new IllegalArgumentException("bootstrap address needs /p2p/<peer id>: " + seed));
            Multiaddr transport = seed.withoutPeerId();
            host.peerStore().addAddrs(id, List.of(transport));
            peers.add(new KadPeer(id.bytes(), List.of(transport.bytes()), KadPeer.Connection.NOT_CONNECTED));
        }
        return dht.bootstrap(peers);
    }

    private List<byte[]> selfAddrs() {
        List<byte[]> out = new ArrayList<>();
        for (Multiaddr a : host.listenAddrs()) {
            out.add(a.bytes());
        }
        return out;
    }

    // ---------------------------------------------------------------- inbound

    private void initInbound(P2pStream stream) {
        KadPeer remote = peerOf(stream.remotePeer());
        stream.channel().pipeline().addLast(
                new ReadTimeoutHandler(requestTimeout.toMillis(), TimeUnit.MILLISECONDS),
                new KadFrameCodec(),
                new KadServerHandler(dht, remote, stream.connection().remoteIp().orElse(null)));
    }

    private KadPeer peerOf(PeerId id) {
        List<byte[]> addrs = new ArrayList<>();
        for (Multiaddr a : host.peerStore().addrs(id)) {
            addrs.add(a.bytes());
        }
        return new KadPeer(id.bytes(), addrs, KadPeer.Connection.CONNECTED);
    }

    /**
     * Waits for identify to fill in the peer's protocols, then offers kad servers to the routing
     * table. Polling keeps this independent of how identify reports completion.
     */
    private void watchIdentify(Connection c, long deadlineNanos) {
        Optional<PeerStore.PeerRecord> rec = host.peerStore().get(c.remotePeer());
        if (rec.isPresent() && !rec.get().protocols().isEmpty()) {
            boolean kad = rec.get().protocols().contains(KadDht.PROTOCOL);
            if (kad) {
                log.debug("event=kad_peer_identified peer={}", c.remotePeer());
                dht.peerSpeaksKad(peerOf(c.remotePeer()));
            }
            for (BiConsumer<PeerId, Boolean> o : identifiedObservers) {
                o.accept(c.remotePeer(), kad);
            }
            return;
        }
        if (c.isOpen() && System.nanoTime() < deadlineNanos) {
            c.channel().eventLoop().schedule(() -> watchIdentify(c, deadlineNanos), IDENTIFY_POLL_MS,
                    TimeUnit.MILLISECONDS);
        }
    }

    // ---------------------------------------------------------------- outbound

    @Override
    public CompletableFuture<KadMessage> request(KadPeer peer, KadMessage request) {
        return exchange(peer, request, true);
    }

    @Override
    public CompletableFuture<Void> send(KadPeer peer, KadMessage message) {
        return exchange(peer, message, false).thenApply(m -> null);
    }

    private CompletableFuture<KadMessage> exchange(KadPeer peer, KadMessage message, boolean expectResponse) {
        PeerId id;
        try {
            id = PeerId.fromBytes(peer.id());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new KadProtocolException("invalid peer id: " + e.getMessage(), e));
        }
        List<Multiaddr> addrs = new ArrayList<>();
        for (byte[] a : peer.addrs()) {
            try {
                addrs.add(Multiaddr.decode(a));
            } catch (IllegalArgumentException e) {
                log.debug("event=kad_bad_peer_addr peer={} cause={}", id, e.getMessage());
            }
        }
        if (!addrs.isEmpty()) {
            host.peerStore().addAddrs(id, addrs);
        }
        CompletableFuture<KadMessage> result = new CompletableFuture<>();
        AtomicReference<P2pStream> opened = new AtomicReference<>();
        host.newStream(id, List.of(KadDht.PROTOCOL), s -> {
            opened.set(s);
            s.channel().pipeline().addLast(new KadFrameCodec(), new KadClientHandler(message, expectResponse, result));
        }).whenComplete((s, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            }
        });
        return result.orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((r, e) -> {
            P2pStream s = opened.get();
            if (e != null && s != null) {
                s.reset();
            }
        });
    }

    /** Stops serving kad and cancels DHT maintenance; the host stays up. */
    @Override
    public void close() {
        host.removeHandler(KadDht.PROTOCOL);
        dht.close();
    }
}
