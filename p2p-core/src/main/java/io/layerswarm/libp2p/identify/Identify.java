package io.layerswarm.libp2p.identify;

import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Varint;
import io.layerswarm.libp2p.mux.MuxedStream;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The libp2p identify protocol ({@value #PROTOCOL}) and its push variant ({@value #PUSH_PROTOCOL}):
 * answers who this host is, and asks every newly connected peer the same, recording the answer
 * (addresses, protocols, agent) in the host's peer store and the observed address of connections we
 * dialled in {@link Host#recordObservedAddr}. When this host starts or stops serving a protocol, the new
 * list is pushed to connected peers that speak identify push.
 */
public final class Identify {
    /** Identify protocol id. */
    public static final String PROTOCOL = "/ipfs/id/1.0.0";
    /** Identify push protocol id. */
    public static final String PUSH_PROTOCOL = "/ipfs/id/push/1.0.0";
    /** Protocol version we advertise (the one js-libp2p and go-libp2p use). */
    public static final String PROTOCOL_VERSION = "ipfs/0.1.0";

    private static final Logger LOG = LoggerFactory.getLogger(Identify.class);

    /** How long a burst of protocol changes is collected before one push goes out. */
    static final long PUSH_DEBOUNCE_MS = 100;

    private final Host host;
    private final AtomicBoolean pushScheduled = new AtomicBoolean();
    /** One identify exchange per connection: js-libp2p resets a second concurrent identify stream. */
    private final Map<Connection, CompletableFuture<IdentifyInfo>> results = new ConcurrentHashMap<>();
    private final List<BiConsumer<Connection, IdentifyInfo>> observers =
            new CopyOnWriteArrayList<>();

    private Identify(Host host) {
        this.host = host;
    }

    /**
     * Serves identify and identify-push on {@code host} and identifies every new connection.
     *
     * @return the service, for explicit {@link #identify(Connection)} calls
     */
    public static Identify attach(Host host) {
        Identify id = new Identify(host);
        host.setStreamHandler(PROTOCOL, id::respond);
        host.setStreamHandler(PUSH_PROTOCOL, s -> id.receive(s).whenComplete((info, e) -> {
            if (info != null) {
                id.record(s.connection(), info);
            }
        }));
        host.addConnectionListener(new ConnectionListener() {
            @Override
            public void connected(Connection c) {
                id.identify(c).whenComplete((info, e) -> {
                    if (e != null) {
                        LOG.debug("event=identify_failed peer={} reason=\"{}\"", c.remotePeer(), e.toString());
                    }
                });
            }

            @Override
            public void disconnected(Connection c) {
                id.results.remove(c);
            }
        });
        host.onProtocolsChanged(id::schedulePush);
        return id;
    }

    /**
     * Pushes our identify message to every connected peer that speaks identify push, once per burst of
     * changes: handlers are often registered several in a row, and one push after the burst says it all.
     */
    private void schedulePush() {
        List<Connection> connections = host.connections();
        if (connections.isEmpty() || !pushScheduled.compareAndSet(false, true)) {
            return;
        }
        connections.get(0).channel().eventLoop().schedule(() -> {
            pushScheduled.set(false);
            for (Connection c : host.connections()) {
                boolean speaksPush = host.peerStore().get(c.remotePeer())
                        .map(r -> r.protocols().contains(PUSH_PROTOCOL)).orElse(false);
                if (speaksPush) {
                    push(c).whenComplete((v, e) -> {
                        if (e != null) {
                            LOG.debug("event=identify_push_failed peer={} reason=\"{}\"", c.remotePeer(), e.toString());
                        }
                    });
                }
            }
        }, PUSH_DEBOUNCE_MS, TimeUnit.MILLISECONDS);
    }

    /** Our identify message as seen by the peer of {@code c}. */
    public IdentifyInfo localInfo(Connection c) {
        return new IdentifyInfo(host.identity().publicKey(), PROTOCOL_VERSION, host.agentVersion(),
                host.advertisedAddrs(), Optional.of(c.remoteAddr()), host.protocols());
    }

    /**
     * Asks the peer of {@code c} to identify itself and records the answer; while an exchange on the
     * connection is running or has succeeded, its result is returned instead of asking again.
     */
    public CompletableFuture<IdentifyInfo> identify(Connection c) {
        return results.compute(c, (k, prev) ->
                prev != null && !prev.isCompletedExceptionally() ? prev : request(c));
    }

    private CompletableFuture<IdentifyInfo> request(Connection c) {
        return c.newStream(List.of(PROTOCOL), s -> { }).thenCompose(this::receive).thenApply(info -> {
            if (!info.peerId().equals(c.remotePeer())) {
                throw new IllegalStateException("identify public key does not match the connection's peer "
                        + c.remotePeer());
            }
            record(c, info);
            return info;
        });
    }

    /**
     * Runs {@code observer} for every identify answer or push recorded from now on (on a connection's
     * thread: it should only schedule work), e.g. to talk to a peer as soon as it is known to speak a
     * protocol.
     */
    public void onIdentified(BiConsumer<Connection, IdentifyInfo> observer) {
        observers.add(Objects.requireNonNull(observer, "observer"));
    }

    /** Pushes our current identify message to the peer of {@code c}. */
    public CompletableFuture<Void> push(Connection c) {
        return c.newStream(List.of(PUSH_PROTOCOL), s -> { }).thenAccept(this::send);
    }

    private void record(Connection c, IdentifyInfo info) {
        host.peerStore().addAddrs(c.remotePeer(), info.listenAddrs());
        host.peerStore().setIdentity(c.remotePeer(), info.protocols(), info.agentVersion());
        if (c.isInitiator() && !c.isRelayed()) {
            // Only an address the peer saw on a direct connection we dialled says how others may reach us.
            info.observedAddr().ifPresent(host::recordObservedAddr);
        }
        LOG.debug("event=identified peer={} agent=\"{}\" addrs={} protocols={}", c.remotePeer(),
                info.agentVersion(), info.listenAddrs().size(), info.protocols().size());
        for (var o : observers) {
            try {
                o.accept(c, info);
            } catch (RuntimeException e) {
                LOG.warn("event=identify_observer_failed peer={} reason=\"{}\"", c.remotePeer(), e.toString());
            }
        }
    }

    private CompletableFuture<IdentifyInfo> receive(P2pStream s) {
        CompletableFuture<byte[]> bytes = new CompletableFuture<>();
        s.channel().pipeline().addLast(new LengthPrefixedReader(IdentifyCodec.MAX_MESSAGE_SIZE, bytes));
        MuxedStream.of(s.channel()).shutdownOutput();
        return bytes.thenApply(IdentifyCodec::decode);
    }

    private void respond(P2pStream s) {
        send(s);
    }

    private void send(P2pStream s) {
        byte[] msg = IdentifyCodec.encode(localInfo(s.connection()));
        ByteBuf out = s.channel().alloc().buffer(msg.length + Varint.MAX_BYTES);
        LengthPrefixed.write(msg, out);
        s.channel().writeAndFlush(out);
        MuxedStream.of(s.channel()).shutdownOutput();
    }
}
