package io.layerswarm.nat.autonat;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.multiformats.Varint;
import io.layerswarm.libp2p.multistream.MultistreamNegotiator;
import io.layerswarm.libp2p.noise.NoiseSecurity;
import io.layerswarm.libp2p.security.SecureSession;
import io.layerswarm.libp2p.security.SecurityUpgrader;
import io.layerswarm.libp2p.tls.TlsSecurity;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AutoNAT v1 server ({@code /libp2p/autonat/1.0.0}): dials a requesting peer back at the addresses it
 * lists and says whether one worked. A dial-back is a fresh TCP connection that must complete the
 * libp2p security handshake as the requesting peer (so a listener on the port is not enough).
 *
 * <p>Against misuse as a traffic cannon: only addresses whose IP is the one the request came from are
 * dialled (never third parties), at most {@link #MAX_DIALS_PER_REQUEST} of them, one request per peer
 * at a time and {@code maxConcurrent} overall; requests over relayed connections are refused.
 */
public final class AutoNatService implements AutoCloseable {
    /** The protocol id. */
    public static final String PROTOCOL = "/libp2p/autonat/1.0.0";
    /** Most addresses dialled back for one request. */
    public static final int MAX_DIALS_PER_REQUEST = 4;

    private static final Logger LOG = LoggerFactory.getLogger(AutoNatService.class);

    private final Host host;
    private final EventLoopGroup group;
    private final SecurityUpgrader security;
    private final Duration dialTimeout;
    private final Semaphore slots;
    private final Set<PeerId> busy = ConcurrentHashMap.newKeySet();

    private AutoNatService(Host host, EventLoopGroup group, Duration dialTimeout, int maxConcurrent) {
        this.host = host;
        this.group = group;
        this.dialTimeout = dialTimeout;
        this.slots = new Semaphore(maxConcurrent);
        this.security = new SecurityUpgrader(host.identity())
                .withProtocols(List.of(TlsSecurity.PROTOCOL_ID, NoiseSecurity.PROTOCOL_ID)).withTimeout(dialTimeout);
    }

    /** Serves AutoNAT on {@code host}, dialling back on {@code group}: 10 s per dial, 8 requests at once. */
    public static AutoNatService attach(Host host, EventLoopGroup group) {
        return attach(host, group, Duration.ofSeconds(10), 8);
    }

    /** As {@link #attach(Host, EventLoopGroup)} with another dial timeout and concurrency. */
    public static AutoNatService attach(Host host, EventLoopGroup group, Duration dialTimeout, int maxConcurrent) {
        AutoNatService s = new AutoNatService(host, group, dialTimeout, maxConcurrent);
        host.setBlockingHandler(PROTOCOL, s::serve);
        return s;
    }

    @Override
    public void close() {
        host.removeHandler(PROTOCOL);
    }

    private void serve(P2pStream s) throws IOException {
        byte[] request = LengthPrefixed.read(s.inputStream(), AutoNatCodec.MAX_MESSAGE_SIZE, AutoNatException::new);
        if (request == null) {
            return;
        }
        DialResponse answer = answer(s.connection(), request);
        LOG.info("event=autonat_served peer={} status={} addr={} text=\"{}\"", s.remotePeer(), answer.status(),
                answer.addr(), answer.text());
        write(s.outputStream(), AutoNatCodec.encodeResponse(answer));
    }

    static void write(OutputStream out, byte[] body) throws IOException {
        out.write(Varint.encode(body.length));
        out.write(body);
        out.flush();
    }

    private DialResponse answer(Connection c, byte[] request) {
        AutoNatCodec.Dial dial;
        try {
            dial = AutoNatCodec.decodeDial(request);
        } catch (AutoNatException e) {
            return new DialResponse(DialResponse.Status.E_BAD_REQUEST, e.getMessage(), null);
        }
        if (!dial.peer().equals(c.remotePeer())) {
            return new DialResponse(DialResponse.Status.E_BAD_REQUEST, "peer id does not match the connection", null);
        }
        if (c.isRelayed()) {
            return new DialResponse(DialResponse.Status.E_DIAL_REFUSED, "request over a relayed connection", null);
        }
        Optional<String> observedIp = ip(c.remoteAddr());
        Set<Multiaddr> targets = new LinkedHashSet<>();
        for (Multiaddr a : dial.addrs()) {
            if (targets.size() < MAX_DIALS_PER_REQUEST && a.valueOf(MultiaddrProtocol.TCP).isPresent()
                    && a.valueOf(MultiaddrProtocol.P2P_CIRCUIT).isEmpty() && ip(a).equals(observedIp)) {
                targets.add(a.withoutPeerId());
            }
        }
        if (targets.isEmpty()) {
            return new DialResponse(DialResponse.Status.E_DIAL_REFUSED,
                    "no TCP address with the IP the request came from (" + observedIp.orElse("?") + ")", null);
        }
        if (!busy.add(c.remotePeer())) {
            return new DialResponse(DialResponse.Status.E_DIAL_REFUSED, "a request of this peer is running", null);
        }
        try {
            if (!slots.tryAcquire()) {
                return new DialResponse(DialResponse.Status.E_DIAL_REFUSED, "too many requests", null);
            }
            try {
                List<String> errors = new ArrayList<>();
                for (Multiaddr a : targets) {
                    try {
                        dialBack(a, c.remotePeer());
                        return new DialResponse(DialResponse.Status.OK, "", a);
                    } catch (IOException e) {
                        errors.add(a + ": " + e.getMessage());
                    }
                }
                return new DialResponse(DialResponse.Status.E_DIAL_ERROR, String.join("; ", errors), null);
            } finally {
                slots.release();
            }
        } finally {
            busy.remove(c.remotePeer());
        }
    }

    private static Optional<String> ip(Multiaddr a) {
        return a.valueOf(MultiaddrProtocol.IP4).or(() -> a.valueOf(MultiaddrProtocol.IP6));
    }

    /** A fresh TCP connection to {@code addr} that must authenticate as {@code peer}; closed afterwards. */
    private void dialBack(Multiaddr addr, PeerId peer) throws IOException {
        InetSocketAddress target = new InetSocketAddress(ip(addr).orElseThrow(),
                Integer.parseInt(addr.valueOf(MultiaddrProtocol.TCP).orElseThrow()));
        CompletableFuture<SecureSession> secured = new CompletableFuture<>();
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) dialTimeout.toMillis())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        security.secure(ch, MultistreamNegotiator.Role.INITIATOR, peer).addListener(f -> {
                            if (f.isSuccess()) {
                                secured.complete((SecureSession) f.getNow());
                            } else {
                                secured.completeExceptionally(f.cause());
                            }
                        });
                    }
                }).connect(target).addListener(f -> {
                    if (!f.isSuccess()) {
                        secured.completeExceptionally(f.cause());
                    }
                }).channel();
        try {
            secured.get(dialTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IOException("dial-back failed: " + cause.getMessage(), cause);
        } finally {
            ch.close();
        }
    }
}
