package io.layerswarm.libp2p.quic;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.Transport;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.security.SecureSession;
import io.layerswarm.libp2p.tls.Libp2pCertificates;
import io.layerswarm.libp2p.tls.TlsSecurity;
import io.layerswarm.libp2p.tls.TlsSession;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.Quic;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicCodecBuilder;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicTokenHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The libp2p QUIC transport ({@code /ip4|ip6/ADDR/udp/PORT/quic-v1}) on Netty's quiche codec: TLS 1.3 inside
 * QUIC with ALPN {@value TlsSecurity#ALPN} and the libp2p certificate of {@link Libp2pCertificates} (both sides
 * present one; the dialler checks the peer id of the address), and QUIC's bidirectional streams as libp2p
 * streams, each negotiated with multistream-select by the host (no Yamux). Connections are adopted by a
 * {@link Host} like any other.
 *
 * <p>Each listen address is a UDP socket of its own; each dial uses a socket of its own too, bound to an
 * ephemeral port or to a given local address ({@link #dial(Multiaddr, InetSocketAddress)}), so a path that
 * was opened from a known local port (a punched NAT mapping) can carry the connection.
 */
public final class QuicTransport implements Transport, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QuicTransport.class);

    /** Data in flight per stream and per connection (quiche grows its windows up to these). */
    static final long STREAM_WINDOW = 8L << 20;
    static final long CONNECTION_WINDOW = 16L << 20;
    /** Concurrent bidirectional streams a peer may open (as the Yamux default stream limit). */
    static final long MAX_STREAMS = 512;
    /**
     * Largest UDP payload sent once path MTU discovery confirmed it: an Ethernet MTU of 1500 less the IPv6 and UDP
     * headers (1452 also leaves room for a TURN ChannelData header on IPv4).
     */
    static final long MAX_UDP_PAYLOAD = 1452;
    /** Unidirectional streams a peer may open at once: only keep-alive probes, closed at once. */
    static final long MAX_UNI_STREAMS = 8;

    private final Host host;
    private final EventLoopGroup group;
    private final Duration handshakeTimeout;
    private final Duration idleTimeout;
    private final QuicSslContext clientSsl;
    private final QuicSslContext serverSsl;
    private final List<Channel> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    /**
     * A transport for {@code host}, on {@code group}'s event loops.
     *
     * @param handshakeTimeout deadline of a dial (UDP bind, QUIC and TLS handshake)
     * @param idleTimeout a connection whose peer sent nothing for this long is closed (QUIC idle timeout;
     *     the host's keep-alive keeps healthy quiet connections busy well within it)
     * @throws IllegalStateException where the native QUIC library does not load
     */
    public QuicTransport(Host host, EventLoopGroup group, Duration handshakeTimeout, Duration idleTimeout) {
        Quic.ensureAvailability();
        this.host = Objects.requireNonNull(host, "host");
        this.group = Objects.requireNonNull(group, "group");
        this.handshakeTimeout = Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        this.idleTimeout = Objects.requireNonNull(idleTimeout, "idleTimeout");
        Libp2pCertificates.CertifiedKey cert = Libp2pCertificates.generate(host.identity(), new SecureRandom());
        this.clientSsl = QuicSslContextBuilder.forClient().keyManager(cert.key(), null, cert.certificate())
                .trustManager(TlsSecurity.trustManager()).applicationProtocols(TlsSecurity.ALPN).build();
        this.serverSsl = QuicSslContextBuilder.forServer(cert.key(), null, cert.certificate())
                .trustManager(TlsSecurity.trustManager()).clientAuth(ClientAuth.REQUIRE)
                .applicationProtocols(TlsSecurity.ALPN).build();
    }

    /** Whether QUIC's native library loads here (natives are shipped for linux x86_64). */
    public static boolean isAvailable() {
        return Quic.isAvailable();
    }

    /** Whether {@code addr} is a QUIC v1 address ({@code .../udp/PORT/quic-v1[/p2p/ID]}). */
    public static boolean isQuicAddr(Multiaddr addr) {
        return addr.valueOf(MultiaddrProtocol.QUIC_V1).isPresent() && addr.valueOf(MultiaddrProtocol.UDP).isPresent()
                && addr.valueOf(MultiaddrProtocol.P2P_CIRCUIT).isEmpty();
    }

    /** {@code /ip4|ip6|dns*}{@code /HOST/udp/PORT/quic-v1[/p2p/ID]} to a socket address. */
    public static InetSocketAddress toSocketAddress(Multiaddr addr) {
        if (!isQuicAddr(addr)) {
            throw new IllegalArgumentException("not a QUIC v1 multiaddr: " + addr);
        }
        return addr.socketAddress(MultiaddrProtocol.UDP);
    }

    /** A UDP socket address as {@code /ip4|ip6/ADDR/udp/PORT/quic-v1}. */
    public static Multiaddr toMultiaddr(InetSocketAddress s) {
        InetAddress a = s.getAddress();
        String family = a instanceof Inet4Address ? "ip4" : "ip6";
        return Multiaddr.parse("/" + family + "/" + a.getHostAddress().replaceAll("%.*$", "") + "/udp/" + s.getPort()
                + "/quic-v1");
    }

    // ---- listen --------------------------------------------------------------------------------

    /**
     * Accepts QUIC connections on a UDP socket bound to {@code addr} (port 0: any free port).
     *
     * @return the bound socket address (the port resolved)
     */
    public InetSocketAddress listen(Multiaddr addr) throws IOException {
        return listen(toSocketAddress(addr));
    }

    /** Accepts QUIC connections on a UDP socket bound to {@code local} (e.g. the port a punched path uses). */
    public InetSocketAddress listen(InetSocketAddress local) throws IOException {
        ChannelHandler codec = configure(new QuicServerCodecBuilder())
                .tokenHandler(NoRetry.INSTANCE)
                .handler(new ChannelInitializer<QuicChannel>() {
                    @Override
                    protected void initChannel(QuicChannel ch) {
                        String ip = remoteIp(ch);
                        if (!host.admitInboundHandshake(ip, "quic")) {
                            ch.close();
                            return;
                        }
                        ch.pipeline().addLast(new InboundHandshake(ip),
                                new Adopter(false, null, new CompletableFuture<>(), null));
                    }
                })
                .streamHandler(InboundStreams.INSTANCE)
                .build();
        Channel socket = bind(local, codec);
        LOG.info("event=quic_listening addr={}", toMultiaddr((InetSocketAddress) socket.localAddress()));
        return (InetSocketAddress) socket.localAddress();
    }

    /**
     * Accepts one QUIC connection, from {@code expected}, on a UDP socket bound to {@code local}: the other end
     * of {@link #dial(Multiaddr, InetSocketAddress)} on a punched path. The socket serves that one connection
     * and closes with it, or when none arrived within the handshake timeout; a connection from another peer is
     * refused and fails the accept.
     */
    public CompletableFuture<Connection> accept(InetSocketAddress local, PeerId expected) {
        return accept(local, expected, null);
    }

    /**
     * {@link #accept(InetSocketAddress, PeerId)} where the datagrams reach this socket through a local forwarder
     * (e.g. a TURN relay's client on loopback): the connection shows {@code shownRemote} as its remote address
     * instead of the forwarder's loopback address (null: the socket's peer address).
     */
    public CompletableFuture<Connection> accept(InetSocketAddress local, PeerId expected, Multiaddr shownRemote) {
        Objects.requireNonNull(expected, "expected");
        CompletableFuture<Connection> result = new CompletableFuture<>();
        ChannelHandler codec = configure(new QuicServerCodecBuilder())
                .tokenHandler(NoRetry.INSTANCE)
                .handler(new ChannelInitializer<QuicChannel>() {
                    @Override
                    protected void initChannel(QuicChannel ch) {
                        if (result.isDone()) {
                            ch.close();
                            return;
                        }
                        ch.pipeline().addLast(new Adopter(false, expected, result, shownRemote));
                    }
                })
                .streamHandler(InboundStreams.INSTANCE)
                .build();
        Channel socket;
        try {
            socket = bind(local, codec);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        var timeout = socket.eventLoop().schedule(() -> {
            result.completeExceptionally(new IOException("no QUIC connection from " + expected + " on " + local
                    + " within " + handshakeTimeout));
        }, handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        result.whenComplete((c, e) -> {
            timeout.cancel(false);
            if (e != null) {
                // a moment later, so the CONNECTION_CLOSE of a refused connection leaves first
                socket.eventLoop().schedule(() -> socket.close(), 500, TimeUnit.MILLISECONDS);
            } else {
                // The UDP socket serves this one connection.
                c.channel().closeFuture().addListener(x -> socket.close());
            }
        });
        return result;
    }

    private Channel bind(InetSocketAddress local, ChannelHandler codec) throws IOException {
        if (closed) {
            throw new IOException("QUIC transport closed");
        }
        ChannelFuture f = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, 4 << 20).option(ChannelOption.SO_SNDBUF, 4 << 20)
                .handler(codec).bind(local).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new IOException("cannot bind UDP " + local + ": " + f.cause().getMessage(), f.cause());
        }
        Channel socket = f.channel();
        sockets.add(socket);
        socket.closeFuture().addListener(x -> sockets.remove(socket));
        return socket;
    }

    private <B extends QuicCodecBuilder<B>> B configure(B b) {
        // benchmark knobs (BENCHMARKS "NAT traversal", system properties layerswarm.quic.*): quiche's congestion
        // control (RENO, CUBIC, BBR; default CUBIC), HyStart++ (default on), the initial congestion window in packets
        // (default 10)
        String cc = System.getProperty("layerswarm.quic.cc");
        if (cc != null) {
            b.congestionControlAlgorithm(QuicCongestionControlAlgorithm.valueOf(cc));
        }
        String hystart = System.getProperty("layerswarm.quic.hystart");
        if (hystart != null) {
            b.hystart(Boolean.parseBoolean(hystart));
        }
        Integer initialWindow = Integer.getInteger("layerswarm.quic.initialCwndPackets");
        if (initialWindow != null) {
            b.initialCongestionWindowPackets(initialWindow);
        }
        // Datagrams up to MAX_UDP_PAYLOAD once path MTU discovery confirmed the path carries them (quiche starts at
        // 1200 bytes and stays there without discovery): fewer packets for the same data, which is what a
        // user-space QUIC spends its CPU on (BENCHMARKS "NAT traversal", issue 14, branch nat4)
        b.maxSendUdpPayloadSize(Long.getLong("layerswarm.quic.maxUdpPayload", MAX_UDP_PAYLOAD));
        b.discoverPmtu(Boolean.parseBoolean(System.getProperty("layerswarm.quic.pmtud", "true")));
        return b.sslContext(b instanceof QuicServerCodecBuilder ? serverSsl : clientSsl)
                .maxIdleTimeout(idleTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .initialMaxData(CONNECTION_WINDOW)
                .initialMaxStreamDataBidirectionalLocal(STREAM_WINDOW)
                .initialMaxStreamDataBidirectionalRemote(STREAM_WINDOW)
                .initialMaxStreamDataUnidirectional(STREAM_WINDOW)
                .initialMaxStreamsBidirectional(MAX_STREAMS)
                .initialMaxStreamsUnidirectional(MAX_UNI_STREAMS);
    }

    // ---- dial ----------------------------------------------------------------------------------

    @Override
    public boolean canDial(Multiaddr addr) {
        return isQuicAddr(addr);
    }

    /** Dials {@code addr} (ending in {@code /p2p/ID}) from an ephemeral UDP port. */
    @Override
    public CompletableFuture<Connection> dial(Multiaddr addr) {
        return dial(addr, new InetSocketAddress(0));
    }

    /**
     * Dials {@code addr} (ending in {@code /p2p/ID}) from a UDP socket bound to {@code local}: a path whose NAT
     * mappings were opened from that port (ICE, hole punching) carries the connection. The socket is closed
     * with the connection.
     */
    public CompletableFuture<Connection> dial(Multiaddr addr, InetSocketAddress local) {
        InetSocketAddress target;
        try {
            target = toSocketAddress(addr);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        return dial(addr, local, target);
    }

    /**
     * {@link #dial(Multiaddr, InetSocketAddress)} whose datagrams go to {@code target}, a local forwarder of the
     * path to {@code addr} (e.g. a TURN relay's client on loopback) rather than to {@code addr} itself; the
     * connection shows {@code addr} (without its peer id) as its remote address.
     */
    public CompletableFuture<Connection> dial(Multiaddr addr, InetSocketAddress local, InetSocketAddress target) {
        CompletableFuture<Connection> result = new CompletableFuture<>();
        PeerId expected;
        InetSocketAddress peerAddr;
        try {
            String id = addr.valueOf(MultiaddrProtocol.P2P)
                    .orElseThrow(() -> new IllegalArgumentException("QUIC dial needs /p2p/<peer id>: " + addr));
            expected = PeerId.parse(id);
            peerAddr = toSocketAddress(addr);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        Multiaddr shownRemote = target.equals(peerAddr) ? null : toMultiaddr(peerAddr);
        Channel socket;
        try {
            socket = bind(local, configure(new QuicClientCodecBuilder()).build());
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        var timeout = socket.eventLoop().schedule(() -> {
            result.completeExceptionally(new IOException("QUIC dial of " + addr + " timed out after "
                    + handshakeTimeout));
        }, handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        result.whenComplete((c, e) -> {
            timeout.cancel(false);
            if (e != null) {
                socket.close();
            }
        });
        QuicChannel.newBootstrap(socket)
                .handler(new Adopter(true, expected, result, shownRemote))
                .streamHandler(InboundStreams.INSTANCE)
                .remoteAddress(target)
                .connect().addListener(f -> {
                    if (f.isSuccess()) {
                        QuicChannel ch = (QuicChannel) f.getNow();
                        // The UDP socket serves this one connection.
                        ch.closeFuture().addListener(x -> socket.close());
                        result.whenComplete((c, e) -> {
                            if (e != null) {
                                ch.close();
                            }
                        });
                    } else {
                        result.completeExceptionally(new IOException("QUIC dial of " + addr + " failed: "
                                + f.cause(), f.cause()));
                    }
                });
        return result;
    }

    /** Closes the listening and dialling UDP sockets (connections end with them). */
    @Override
    public void close() {
        closed = true;
        for (Channel s : sockets) {
            s.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }

    // ---- connection setup ----------------------------------------------------------------------

    /**
     * On a QUIC connection's handshake completion: authenticates the peer from its libp2p certificate (and,
     * dialling, checks the peer id) and hands the connection to the host.
     */
    private final class Adopter extends ChannelInboundHandlerAdapter {
        private final boolean initiator;
        private final PeerId expected;
        private final CompletableFuture<Connection> result;
        private final Multiaddr shownRemote;

        Adopter(boolean initiator, PeerId expected, CompletableFuture<Connection> result, Multiaddr shownRemote) {
            this.initiator = initiator;
            this.expected = expected;
            this.result = result;
            this.shownRemote = shownRemote;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            QuicChannel ch = (QuicChannel) ctx.channel();
            try {
                TlsSession tls = TlsSecurity.authenticate(ch.sslEngine().getSession(), expected);
                Connection c = host.adopt(ch, inbound -> new QuicMuxer(ch, inbound), initiator,
                        new SecureSession(TlsSecurity.PROTOCOL_ID, tls.remotePeerId(), tls.remoteIdentityKey(),
                                List.of()),
                        toMultiaddr((InetSocketAddress) ch.localSocketAddress()),
                        shownRemote != null ? shownRemote : toMultiaddr((InetSocketAddress) ch.remoteSocketAddress()));
                result.complete(c);
            } catch (RuntimeException | IOException e) {
                LOG.debug("event=quic_connection_refused remote={} reason=\"{}\"", ch.remoteSocketAddress(),
                        e.toString());
                result.completeExceptionally(e);
                ByteBuf reason = Unpooled.copiedBuffer("libp2p: " + e.getClass().getSimpleName(),
                        java.nio.charset.StandardCharsets.US_ASCII);
                ch.close(true, 1, reason);
            }
            super.channelActive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            result.completeExceptionally(new IOException("QUIC connection closed during the handshake"));
            super.channelInactive(ctx);
        }
    }

    private static String remoteIp(QuicChannel ch) {
        return ch.remoteSocketAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "unknown";
    }

    /**
     * Holds an inbound connection's handshake slot (the host's caps, as for TCP) until the handshake completes
     * or the connection closes, and closes a connection still handshaking at the deadline: quiche would keep a
     * client that sent one Initial and went silent until its idle timeout.
     */
    private final class InboundHandshake extends ChannelInboundHandlerAdapter {
        private final String ip;
        private boolean released;
        private ScheduledFuture<?> deadline;

        InboundHandshake(String ip) {
            this.ip = ip;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            deadline = ctx.executor().schedule(() -> {
                if (!released) {
                    LOG.debug("event=quic_handshake_timeout remote={} after={}", ip, handshakeTimeout);
                    ctx.close();
                }
            }, handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
            // not channelInactive: a connection closed before its handshake completed was never active
            ctx.channel().closeFuture().addListener(f -> release());
        }

        private void release() {
            if (!released) {
                released = true;
                deadline.cancel(false);
                host.releaseInboundHandshake(ip);
            }
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            release();
            ctx.pipeline().remove(this);
            super.channelActive(ctx);
        }
    }

    /** Hands each inbound stream to its connection's muxer. */
    @ChannelHandler.Sharable
    private static final class InboundStreams extends ChannelInitializer<QuicStreamChannel> {
        static final InboundStreams INSTANCE = new InboundStreams();

        @Override
        protected void initChannel(QuicStreamChannel ch) {
            QuicMuxer.acceptInbound(ch);
        }
    }

    /** No address validation by Retry (an extra round trip; quiche limits what it sends unvalidated peers). */
    private static final class NoRetry implements QuicTokenHandler {
        static final NoRetry INSTANCE = new NoRetry();

        @Override
        public boolean writeToken(ByteBuf out, ByteBuf dcid, InetSocketAddress address) {
            return false;
        }

        @Override
        public int validateToken(ByteBuf token, InetSocketAddress address) {
            return 0;
        }

        @Override
        public int maxTokenLength() {
            return 0;
        }
    }
}
