package io.layerswarm.libp2p.host;

import io.layerswarm.libp2p.bandwidth.BandwidthLimiter;
import io.layerswarm.libp2p.bandwidth.ThrottleHandler;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.multistream.MultistreamSelect;
import io.layerswarm.libp2p.mux.MuxedStream;
import io.layerswarm.libp2p.mux.StreamMuxer;
import io.layerswarm.libp2p.noise.NoiseSecurity;
import io.layerswarm.libp2p.noise.NoiseTransportHandler;
import io.layerswarm.libp2p.multistream.MultistreamNegotiator;
import io.layerswarm.libp2p.security.SecureSession;
import io.layerswarm.libp2p.security.SecurityUpgrader;
import io.layerswarm.libp2p.pnet.SwarmKey;
import io.layerswarm.libp2p.quic.QuicTransport;
import io.layerswarm.libp2p.tls.TlsSecurity;
import io.layerswarm.libp2p.yamux.YamuxConfig;
import io.layerswarm.libp2p.yamux.YamuxFrame;
import io.layerswarm.libp2p.yamux.YamuxSession;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A libp2p host: one identity listening on TCP and QUIC multiaddrs, dialling peers, upgrading every TCP
 * connection (optional private-network protection, then multistream-select of {@code /tls/1.0.0} or
 * {@code /noise}, then of {@code /yamux/1.0.0}, Yamux) and adopting QUIC connections as they are (TLS 1.3 and
 * streams of their own, {@link QuicTransport}), serving registered protocols on inbound streams and opening
 * streams to peers. Connections are kept one per peer, limited in number, pinged when quiet and closed when idle.
 *
 * <pre>{@code
 * Host host = Host.builder(key).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).build().start();
 * host.setBlockingHandler("/echo/1.0.0", s -> s.inputStream().transferTo(s.outputStream()));
 * P2pStream s = host.newStream(Multiaddr.parse(".../p2p/12D3..."), List.of("/echo/1.0.0")).get();
 * }</pre>
 */
public final class Host implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Host.class);

    private final PrivateKey identity;
    private final PeerId peerId;
    private final Builder config;
    private final SecurityUpgrader security;
    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final ExecutorService blockingPool;
    private final ConnectionManager connections;
    private final HandshakeLimiter handshakes;
    private static final long REFUSAL_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private final PeerStore peerStore = new PeerStore();
    private final Map<String, Object> handlers = new ConcurrentHashMap<>();
    private final List<Runnable> protocolObservers = new CopyOnWriteArrayList<>();
    private final List<ConnectionListener> listeners = new CopyOnWriteArrayList<>();
    private final List<Transport> transports = new CopyOnWriteArrayList<>();
    private QuicTransport quic;
    private volatile Supplier<List<Multiaddr>> advertised;
    private final Map<Multiaddr, AtomicInteger> observed = new ConcurrentHashMap<>();
    private final List<Channel> servers = new CopyOnWriteArrayList<>();
    private final List<Multiaddr> boundAddrs = new CopyOnWriteArrayList<>();
    private final ChannelHandler inboundStreamInitializer = new InboundStreams();
    /** Inbound streams each peer has on blocking handlers right now (no entry: none). */
    private final Map<PeerId, Integer> blockingByPeer = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong streamsRefused = new java.util.concurrent.atomic.AtomicLong();
    private ScheduledFuture<?> ticker;
    private volatile boolean closed;

    private Host(Builder b) {
        this.config = b;
        this.identity = b.identity;
        this.peerId = b.identity.peerId();
        SecurityUpgrader upgrader = new SecurityUpgrader(new NoiseSecurity(identity).withTimeout(b.handshakeTimeout));
        if (b.security.contains(TlsSecurity.PROTOCOL_ID)) {
            upgrader = upgrader.withTls(new TlsSecurity(identity, b.tlsEngine));
        }
        this.security = upgrader.withProtocols(b.security).withPrivateNetwork(b.swarmKey)
                .withTimeout(b.handshakeTimeout);
        this.ownGroup = b.group == null;
        this.group = ownGroup ? new NioEventLoopGroup(b.ioThreads) : b.group;
        AtomicInteger n = new AtomicInteger();
        this.blockingPool = new ThreadPoolExecutor(0, b.maxBlockingStreams, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "p2p-stream-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.connections = new ConnectionManager(peerId, b.maxConnections, b.maxConnectionsPerPeer,
                b.maxInboundConnectionsPerAddress, b.idleTimeout, b.keepAlive);
        this.handshakes = new HandshakeLimiter(b.maxInboundHandshakesPerAddress, b.maxInboundHandshakes);
    }

    /** Starts building a host with the given identity key. */
    public static Builder builder(PrivateKey identity) {
        return new Builder(identity);
    }

    // ---- lifecycle -----------------------------------------------------------------------------

    /** Binds the listen addresses and starts the connection-manager tick. Returns this. */
    public Host start() throws IOException {
        for (Multiaddr addr : config.listen) {
            if (QuicTransport.isQuicAddr(addr)) {
                InetSocketAddress bound;
                try {
                    bound = quic().listen(addr);
                } catch (IOException | RuntimeException e) {
                    close();
                    throw new IOException("cannot listen on " + addr + ": " + e.getMessage(), e);
                }
                boundAddrs.addAll(expand(bound, QuicTransport::toMultiaddr));
                LOG.info("event=listening addr={} peer={}", boundAddrs, peerId);
                continue;
            }
            InetSocketAddress sa = TcpAddresses.toSocketAddress(addr);
            ChannelFuture f = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(512 << 10, 2 << 20))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            acceptInbound(ch);
                        }
                    }).bind(sa).awaitUninterruptibly();
            if (!f.isSuccess()) {
                close();
                throw new IOException("cannot listen on " + addr + ": " + f.cause().getMessage(), f.cause());
            }
            servers.add(f.channel());
            boundAddrs.addAll(expand((InetSocketAddress) f.channel().localAddress(), TcpAddresses::toMultiaddr));
            LOG.info("event=listening addr={} peer={}", boundAddrs, peerId);
        }
        long tick = config.tick.toMillis();
        ticker = group.next().scheduleAtFixedRate(connections::tick, tick, tick, TimeUnit.MILLISECONDS);
        return this;
    }

    /**
     * This host's QUIC transport, made on first use (QUIC listen address or dial): for listening or dialling
     * from a given local UDP port, as a path found by hole punching needs.
     *
     * @throws IllegalStateException where QUIC's native library does not load
     */
    public QuicTransport quicTransport() {
        return quic();
    }

    private synchronized QuicTransport quic() {
        if (quic == null) {
            if (config.swarmKey != null) {
                // pnet protects a byte stream before the handshake; QUIC has none to protect (libp2p: no QUIC in
                // private networks), so a private host must not accept or make QUIC connections.
                throw new IllegalStateException("QUIC cannot carry a private network (swarm key set)");
            }
            if (config.uploadLimit != null || config.downloadLimit != null) {
                LOG.warn("event=quic_not_throttled reason=\"bandwidth limits apply to TCP connections only\"");
            }
            // Thrice the keep-alive: quiet connections are pinged well before QUIC's idle timeout ends them.
            quic = new QuicTransport(this, group, config.handshakeTimeout, config.keepAlive.multipliedBy(3));
        }
        return quic;
    }

    private static List<Multiaddr> expand(InetSocketAddress bound, Function<InetSocketAddress, Multiaddr> format) {
        if (!bound.getAddress().isAnyLocalAddress()) {
            return List.of(format.apply(bound));
        }
        List<Multiaddr> out = new ArrayList<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!ni.isUp()) {
                    continue;
                }
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    if (a instanceof Inet4Address) {
                        out.add(format.apply(new InetSocketAddress(a, bound.getPort())));
                    }
                }
            }
        } catch (IOException e) {
            LOG.warn("event=interface_enumeration_failed reason=\"{}\"", e.toString());
        }
        return out;
    }

    /** Closes listeners and connections and stops the host's threads. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (ticker != null) {
            ticker.cancel(false);
        }
        for (Channel s : servers) {
            s.close().awaitUninterruptibly();
        }
        for (Connection c : connections.all()) {
            c.close();
        }
        for (Connection c : connections.all()) {
            c.channel().closeFuture().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        synchronized (this) {
            if (quic != null) {
                quic.close();
            }
        }
        blockingPool.shutdownNow();
        if (ownGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    // ---- identity and addresses ----------------------------------------------------------------

    /** The upload limit shared by this host's connections, if one is set. */
    public Optional<BandwidthLimiter> uploadLimit() {
        return Optional.ofNullable(config.uploadLimit);
    }

    /** The download limit shared by this host's connections, if one is set. */
    public Optional<BandwidthLimiter> downloadLimit() {
        return Optional.ofNullable(config.downloadLimit);
    }

    /** This host's peer id. */
    public PeerId peerId() {
        return peerId;
    }

    /** This host's identity key (used by identify to publish the public half). */
    public PrivateKey identity() {
        return identity;
    }

    /** Agent version string advertised by identify. */
    public String agentVersion() {
        return config.agentVersion;
    }

    /** The addresses actually listened on (ports resolved, wildcards expanded), without /p2p. */
    public List<Multiaddr> listenAddrs() {
        return List.copyOf(boundAddrs);
    }

    /**
     * The addresses this host tells peers to dial it at (identify's listen addresses): by default
     * {@link #listenAddrs()}; a reachability service may narrow it to addresses known to work (or to
     * relay circuits) with {@link #setAdvertisedAddrs}.
     */
    public List<Multiaddr> advertisedAddrs() {
        Supplier<List<Multiaddr>> s = advertised;
        return s == null ? listenAddrs() : List.copyOf(s.get());
    }

    /** Replaces the source of {@link #advertisedAddrs()} (null: the listen addresses again). */
    public void setAdvertisedAddrs(Supplier<List<Multiaddr>> source) {
        advertised = source;
    }

    /** What the host knows about other peers. */
    public PeerStore peerStore() {
        return peerStore;
    }

    /**
     * Records how a peer observed one of our addresses (from identify); only addresses seen on
     * connections we dialled are meaningful for others to dial back, which the caller decides.
     */
    public void recordObservedAddr(Multiaddr addr) {
        if (observed.size() < 64 || observed.containsKey(addr)) {
            observed.computeIfAbsent(addr, a -> new AtomicInteger()).incrementAndGet();
        }
    }

    /** Observed addresses of this host, most often reported first. */
    public List<Multiaddr> observedAddrs() {
        List<Map.Entry<Multiaddr, AtomicInteger>> e = new ArrayList<>(observed.entrySet());
        e.sort(Comparator.comparingInt((Map.Entry<Multiaddr, AtomicInteger> x) -> x.getValue().get()).reversed());
        return e.stream().map(Map.Entry::getKey).toList();
    }

    // ---- protocol handlers ---------------------------------------------------------------------

    /** Serves {@code protocol} on inbound streams with a pipeline-style handler. */
    public void setStreamHandler(String protocol, StreamHandler handler) {
        if (handlers.put(protocol, Objects.requireNonNull(handler)) == null) {
            protocolsChanged();
        }
    }

    /** Serves {@code protocol} on inbound streams with blocking I/O on a worker thread. */
    public void setBlockingHandler(String protocol, BlockingStreamHandler handler) {
        if (handlers.put(protocol, Objects.requireNonNull(handler)) == null) {
            protocolsChanged();
        }
    }

    /** Stops serving {@code protocol}. */
    public void removeHandler(String protocol) {
        if (handlers.remove(protocol) != null) {
            protocolsChanged();
        }
    }

    /**
     * Runs {@code observer} whenever a protocol starts or stops being served (on the caller's thread,
     * so it should only schedule work; identify uses it to push the new list to connected peers).
     */
    public void onProtocolsChanged(Runnable observer) {
        protocolObservers.add(Objects.requireNonNull(observer));
    }

    private void protocolsChanged() {
        for (Runnable r : protocolObservers) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warn("event=protocol_observer_failed reason=\"{}\"", e.toString());
            }
        }
    }

    /** Protocols served, sorted. */
    public List<String> protocols() {
        return handlers.keySet().stream().sorted().toList();
    }

    /** Registers a connection event listener. */
    public void addConnectionListener(ConnectionListener l) {
        listeners.add(l);
    }

    // ---- connections ---------------------------------------------------------------------------

    /** Open connections (one per peer, plus duplicates about to close). */
    public List<Connection> connections() {
        return connections.all();
    }

    /** The open connection to {@code peer}, if any. */
    public Optional<Connection> connection(PeerId peer) {
        return connections.get(peer);
    }

    /**
     * Connects to a multiaddr: through the first {@link #addTransport registered transport} that dials
     * it, else over QUIC ({@code /udp/PORT/quic-v1}) or TCP. With a trailing {@code /p2p/<id>} the remote identity must match (otherwise the
     * handshake fails) and an existing connection to that peer is reused.
     */
    public CompletableFuture<Connection> connect(Multiaddr addr) {
        PeerId expected = lastPeerId(addr);
        if (expected != null) {
            if (expected.equals(peerId)) {
                return CompletableFuture.failedFuture(new IOException("refusing to dial self"));
            }
            Optional<Connection> existing = connections.get(expected);
            // A relayed connection does not stand in for a direct address: dialling it may find a better path.
            if (existing.isPresent() && (!existing.get().isRelayed()
                    || addr.valueOf(MultiaddrProtocol.P2P_CIRCUIT).isPresent())) {
                return CompletableFuture.completedFuture(existing.get());
            }
        }
        for (Transport t : transports) {
            if (t.canDial(addr)) {
                return t.dial(addr).thenApply(c -> {
                    peerStore.addAddrs(c.remotePeer(), List.of(addr.withoutPeerId()));
                    return c;
                });
            }
        }
        if (addr.valueOf(MultiaddrProtocol.P2P_CIRCUIT).isPresent()) {
            return CompletableFuture.failedFuture(new IOException("no transport registered for " + addr));
        }
        if (QuicTransport.isQuicAddr(addr)) {
            QuicTransport q;
            try {
                q = quic();
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(new IOException("QUIC unavailable: " + e.getMessage(), e));
            }
            return q.dial(addr).thenApply(c -> {
                peerStore.addAddrs(c.remotePeer(), List.of(addr.withoutPeerId()));
                return c;
            });
        }
        CompletableFuture<Connection> result = new CompletableFuture<>();
        InetSocketAddress target;
        try {
            target = TcpAddresses.toSocketAddress(addr);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.handshakeTimeout.toMillis())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(512 << 10, 2 << 20))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        upgrade(ch, true, expected).whenComplete((c, e) -> {
                            if (e != null) {
                                result.completeExceptionally(e);
                            } else {
                                peerStore.addAddrs(c.remotePeer(), List.of(addr));
                                result.complete(c);
                            }
                        });
                    }
                }).connect(target).addListener(f -> {
                    if (!f.isSuccess()) {
                        result.completeExceptionally(new IOException("cannot connect to " + addr + ": "
                                + f.cause().getMessage(), f.cause()));
                    }
                });
        return result;
    }

    /** The peer an address leads to: its last {@code /p2p} (a circuit address names the relay first). */
    private static PeerId lastPeerId(Multiaddr addr) {
        PeerId last = null;
        for (Multiaddr.Component c : addr.components()) {
            if (c.protocol() == MultiaddrProtocol.P2P) {
                last = PeerId.parse(c.valueText());
            }
        }
        return last;
    }

    /** The existing connection to {@code peer}, or a new one to the first of its known addresses that works. */
    public CompletableFuture<Connection> connect(PeerId peer) {
        Optional<Connection> existing = connections.get(peer);
        if (existing.isPresent()) {
            return CompletableFuture.completedFuture(existing.get());
        }
        List<Multiaddr> addrs = peerStore.addrs(peer);
        if (addrs.isEmpty()) {
            return CompletableFuture.failedFuture(new IOException("no known address for " + peer));
        }
        CompletableFuture<Connection> f = CompletableFuture.failedFuture(new IOException("no address worked for " + peer));
        for (Multiaddr a : addrs) {
            Multiaddr full = a.encapsulate(Multiaddr.parse("/p2p/" + peer.toBase58()));
            f = f.exceptionallyCompose(e -> connect(full));
        }
        return f;
    }

    /** Opens a stream for blocking I/O to {@code peer} (connecting if needed). */
    public CompletableFuture<P2pStream> newStream(PeerId peer, List<String> protocols) {
        return connect(peer).thenCompose(c -> c.newStream(protocols));
    }

    /** Opens a stream for blocking I/O to the peer at {@code addr}. */
    public CompletableFuture<P2pStream> newStream(Multiaddr addr, List<String> protocols) {
        return connect(addr).thenCompose(c -> c.newStream(protocols));
    }

    /** Opens a stream to {@code peer} set up with {@code handler} (pipeline API). */
    public CompletableFuture<P2pStream> newStream(PeerId peer, List<String> protocols, StreamHandler handler) {
        return connect(peer).thenCompose(c -> c.newStream(protocols, handler));
    }

    /**
     * Adds a transport that {@link #connect(Multiaddr)} consults before TCP (first match wins), for
     * multiaddrs TCP cannot dial such as relay circuits.
     */
    public void addTransport(Transport transport) {
        transports.add(Objects.requireNonNull(transport, "transport"));
    }

    /**
     * Upgrades an established byte channel that another transport produced (a relayed stream, a
     * datagram-based reliable channel, ...) exactly like a TCP connection: security, muxer, kept and
     * announced to listeners. Call on the channel's event loop before its first inbound byte is read.
     *
     * @param initiator whether this side dialled (it proposes the security and muxer protocols)
     * @param expected the dialled peer (checked by the security handshake), or null when inbound
     * @param localAddr how this side is addressed on the channel (shown by {@link Connection#localAddr()})
     * @param remoteAddr how the peer is reached through it ({@link Connection#remoteAddr()}; a
     *     {@code /p2p-circuit} address marks the connection {@link Connection#isRelayed() relayed})
     */
    public CompletableFuture<Connection> upgrade(Channel ch, boolean initiator, PeerId expected, Multiaddr localAddr,
            Multiaddr remoteAddr) {
        return upgrade(ch, initiator, expected, new Endpoints(Objects.requireNonNull(localAddr, "localAddr"),
                Objects.requireNonNull(remoteAddr, "remoteAddr")));
    }

    /**
     * Adopts a connection whose transport secured and multiplexed it itself (QUIC: TLS 1.3 and its own
     * streams): kept and announced to listeners like an upgraded one. Call on the channel's event loop,
     * before any inbound stream of it is accepted.
     *
     * @param muxer makes the connection's muxer from the handler that every inbound stream channel must get
     *     (it negotiates the stream's protocol and serves it)
     * @param secured who the transport's handshake authenticated, and with which security protocol
     * @throws IOException if the host is closed or at its connection limit (the caller closes the channel)
     */
    public Connection adopt(Channel ch, Function<ChannelHandler, StreamMuxer> muxer, boolean initiator,
            SecureSession secured, Multiaddr localAddr, Multiaddr remoteAddr) throws IOException {
        if (closed) {
            throw new IOException("host closed");
        }
        Connection c = new Connection(this, ch, muxer.apply(inboundStreamInitializer), secured.remotePeerId(),
                secured.remoteIdentityKey(), initiator, secured.protocol(), Objects.requireNonNull(localAddr),
                Objects.requireNonNull(remoteAddr));
        ch.attr(CONNECTION).set(c);
        return register(c);
    }

    /** How a connection's two ends are addressed, when its transport says so (TCP: from the socket). */
    private record Endpoints(Multiaddr local, Multiaddr remote) {
    }

    // ---- upgrade -------------------------------------------------------------------------------

    /**
     * Upgrades an accepted TCP connection if the handshake caps allow it, or closes it at once: a peer
     * opening connections that never finish their handshake would otherwise hold each for the whole
     * handshake timeout.
     */
    private void acceptInbound(SocketChannel ch) {
        String ip = ch.remoteAddress().getAddress().getHostAddress();
        if (!admitInboundHandshake(ip, "tcp")) {
            ch.close();
            return;
        }
        // the upgrade's future completes exactly once: upgraded, failed, timed out or closed
        upgrade(ch, false, null).whenComplete((c, e) -> releaseInboundHandshake(ip));
    }

    /**
     * Counts an inbound handshake from {@code ip} against the host's caps ({@link
     * Builder#maxInboundHandshakesPerAddress}, {@link Builder#maxInboundHandshakes}), for transports that
     * secure connections themselves (QUIC) as for TCP; or refuses it, logged as {@code event=handshake_refused}
     * at most once a second (the line counts the refusals left out since the last one).
     *
     * @param transport named in the log ({@code tcp}, {@code quic})
     * @return true if admitted: the caller then calls {@link #releaseInboundHandshake} exactly once when the
     *     handshake ends, whichever way; false: the caller closes the connection at once
     */
    public boolean admitInboundHandshake(String ip, String transport) {
        HandshakeLimiter.Admission a = handshakes.admit(ip);
        if (a == HandshakeLimiter.Admission.ADMITTED) {
            return true;
        }
        long unlogged = handshakes.logRefusal(System.nanoTime(), REFUSAL_LOG_INTERVAL_NANOS);
        if (unlogged >= 0) {
            LOG.info("event=handshake_refused ip={} reason={} limit={} transport={} unlogged_refusals={}", ip,
                    a == HandshakeLimiter.Admission.ADDRESS_LIMIT ? "address_limit" : "limit", handshakes.limitOf(a),
                    transport, unlogged);
        }
        return false;
    }

    /** Ends a handshake that {@link #admitInboundHandshake} admitted. */
    public void releaseInboundHandshake(String ip) {
        handshakes.release(ip);
    }

    /** Inbound connections (TCP, QUIC) whose handshakes are still in progress. */
    public int handshakesInProgress() {
        return handshakes.inProgress();
    }

    /** Inbound connections (TCP, QUIC) closed unanswered because a handshake cap was reached. */
    public long handshakesRefused() {
        return handshakes.refused();
    }

    private CompletableFuture<Connection> upgrade(Channel ch, boolean initiator, PeerId expected) {
        return upgrade(ch, initiator, expected, null);
    }

    private CompletableFuture<Connection> upgrade(Channel ch, boolean initiator, PeerId expected, Endpoints addrs) {
        CompletableFuture<Connection> result = new CompletableFuture<>();
        if (closed) {
            ch.close();
            result.completeExceptionally(new IOException("host closed"));
            return result;
        }
        ScheduledFuture<?> timeout = ch.eventLoop().schedule(() -> {
            if (result.completeExceptionally(new IOException("connection upgrade timed out after "
                    + config.handshakeTimeout))) {
                ch.close();
            }
        }, config.handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        result.whenComplete((c, e) -> timeout.cancel(false));
        ch.closeFuture().addListener(x -> result.completeExceptionally(new UpgradeClosedException()));
        if (config.uploadLimit != null || config.downloadLimit != null) {
            // below everything: the limits count the bytes on the wire, handshakes and framing included
            ch.pipeline().addFirst("bandwidth", new ThrottleHandler(config.uploadLimit, config.downloadLimit));
        }
        security.secure(ch, initiator ? MultistreamNegotiator.Role.INITIATOR : MultistreamNegotiator.Role.RESPONDER,
                expected, session -> muxer(ch, initiator, session, addrs, result)).addListener(f -> {
                    if (!f.isSuccess()) {
                        fail(ch, result, f.cause());
                    }
                });
        return result;
    }

    private void muxer(Channel ch, boolean initiator, SecureSession secured, Endpoints addrs,
            CompletableFuture<Connection> result) {
        YamuxSession session = new YamuxSession(initiator, config.yamux, inboundStreamInitializer);
        // Known to the channel before Yamux is installed: the peer's first streams can arrive in the same
        // read as the muxer confirmation, before the negotiation future's listeners run.
        Connection c = new Connection(this, ch, session, secured.remotePeerId(), secured.remoteIdentityKey(),
                initiator, secured.protocol(),
                addrs == null ? TcpAddresses.toMultiaddr(ch.localAddress()) : addrs.local(),
                addrs == null ? TcpAddresses.toMultiaddr(ch.remoteAddress()) : addrs.remote());
        ch.attr(CONNECTION).set(c);
        List<String> muxers = List.of(YamuxSession.PROTOCOL_ID);
        Future<String> mux = initiator
                ? MultistreamSelect.initiate(ch.pipeline(), muxers,
                        (anchor, p) -> anchor.pipeline().addAfter(anchor.name(), "yamux", session))
                : MultistreamSelect.respond(ch.pipeline(), muxers,
                        (anchor, p) -> anchor.pipeline().addAfter(anchor.name(), "yamux", session));
        mux.addListener(f -> {
            if (!f.isSuccess()) {
                fail(ch, result, f.cause());
                return;
            }
            try {
                result.complete(register(c));
            } catch (IOException e) {
                fail(ch, result, e);
            }
        });
    }

    /**
     * Keeps a secured, multiplexed connection and announces it; returns the connection kept for the peer
     * (this one, or the one that wins against a simultaneous duplicate).
     */
    private Connection register(Connection c) throws IOException {
        Channel ch = c.channel();
        boolean initiator = c.isInitiator();
        Optional<Connection> kept = connections.add(c);
        if (kept.isEmpty()) {
            throw new IOException("connection limit reached");
        }
        ch.closeFuture().addListener(x -> {
            connections.remove(c);
            LOG.debug("event=disconnected peer={} addr={}", c.remotePeer(), c.remoteAddr());
            for (ConnectionListener l : listeners) {
                l.disconnected(c);
            }
        });
        if (!initiator) {
            peerStore.addAddrs(c.remotePeer(), List.of());
        }
        LOG.debug("event=connected peer={} addr={} initiator={}", c.remotePeer(), c.remoteAddr(), initiator);
        for (ConnectionListener l : listeners) {
            try {
                l.connected(c);
            } catch (RuntimeException e) {
                LOG.warn("event=listener_failed reason=\"{}\"", e.toString());
            }
        }
        return kept.get();
    }

    private static void fail(Channel ch, CompletableFuture<Connection> result, Throwable cause) {
        result.completeExceptionally(cause);
        ch.close();
    }

    private static final io.netty.util.AttributeKey<Connection> CONNECTION =
            io.netty.util.AttributeKey.valueOf(Host.class, "connection");

    // ---- streams -------------------------------------------------------------------------------

    CompletableFuture<P2pStream> openStream(Connection c, List<String> protocols, StreamHandler handler) {
        CompletableFuture<P2pStream> result = new CompletableFuture<>();
        c.touch();
        c.muxer().openStream(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                MultistreamSelect.initiate(ch.pipeline(), protocols, (anchor, protocol) -> {
                    P2pStream stream = new P2pStream(c, ch, protocol);
                    try {
                        if (handler == null) {
                            stream.enableBlocking();
                        } else {
                            handler.initStream(stream);
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException("stream handler failed: " + e.getMessage(), e);
                    }
                    result.complete(stream);
                }).addListener(f -> {
                    if (!f.isSuccess()) {
                        result.completeExceptionally(f.cause());
                    }
                });
                ch.closeFuture().addListener(x -> c.touch());
            }
        }).addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(f.cause());
            }
        });
        return result;
    }

    /** Negotiates the protocol of each inbound stream and hands it to the registered handler. */
    @ChannelHandler.Sharable
    private final class InboundStreams extends ChannelInitializer<Channel> {
        @Override
        protected void initChannel(Channel ch) {
            Connection c = ch.parent() == null ? null : ch.parent().attr(CONNECTION).get();
            if (c == null) {
                // Not a connection this host upgraded (cannot happen through Host's own pipelines).
                MuxedStream.of(ch).reset();
                return;
            }
            c.touch();
            ch.closeFuture().addListener(x -> c.touch());
            MultistreamSelect.respond(ch.pipeline(), List.copyOf(handlers.keySet()), (anchor, protocol) -> {
                Object h = handlers.get(protocol);
                P2pStream stream = new P2pStream(c, ch, protocol);
                if (h instanceof StreamHandler sh) {
                    try {
                        sh.initStream(stream);
                    } catch (Exception e) {
                        throw new IllegalStateException("stream handler failed: " + e.getMessage(), e);
                    }
                } else if (h instanceof BlockingStreamHandler bh) {
                    stream.enableBlocking();
                    PeerId peer = c.remotePeer();
                    if (!takeBlockingSlot(peer)) {
                        // one peer must not take every worker: the others' streams would all be refused
                        streamsRefused.incrementAndGet();
                        LOG.debug("event=stream_refused reason=peer_limit peer={} protocol={} limit={}", peer,
                                protocol, config.maxBlockingStreamsPerPeer);
                        stream.reset();
                        return;
                    }
                    try {
                        blockingPool.execute(() -> {
                            try {
                                runBlocking(bh, stream);
                            } finally {
                                releaseBlockingSlot(peer);
                            }
                        });
                    } catch (RejectedExecutionException e) {
                        releaseBlockingSlot(peer);
                        streamsRefused.incrementAndGet();
                        LOG.warn("event=stream_refused reason=too_many_blocking_streams protocol={}", protocol);
                        stream.reset();
                    }
                } else {
                    throw new IllegalStateException("no handler for " + protocol);
                }
            });
        }
    }

    private boolean takeBlockingSlot(PeerId peer) {
        boolean[] taken = new boolean[1];
        blockingByPeer.compute(peer, (p, n) -> {
            int held = n == null ? 0 : n;
            taken[0] = held < config.maxBlockingStreamsPerPeer;
            return taken[0] ? held + 1 : n;
        });
        return taken[0];
    }

    private void releaseBlockingSlot(PeerId peer) {
        blockingByPeer.computeIfPresent(peer, (p, n) -> n <= 1 ? null : n - 1);
    }

    /** Inbound streams {@code peer} has on blocking handlers right now. */
    public int blockingStreams(PeerId peer) {
        return blockingByPeer.getOrDefault(peer, 0);
    }

    /**
     * Inbound streams reset unserved because their peer already had
     * {@link Builder#maxBlockingStreamsPerPeer} on blocking handlers, or every worker was busy.
     */
    public long streamsRefused() {
        return streamsRefused.get();
    }

    private static void runBlocking(BlockingStreamHandler h, P2pStream stream) {
        try {
            h.handle(stream);
            stream.outputStream().close();
            stream.close();
        } catch (Exception e) {
            LOG.debug("event=stream_handler_failed protocol={} peer={} reason=\"{}\"", stream.protocol(),
                    stream.remotePeer(), e.toString());
            stream.reset();
        }
    }

    // ---- builder -------------------------------------------------------------------------------

    /** Host settings. */
    public static final class Builder {
        private final PrivateKey identity;
        private final List<Multiaddr> listen = new ArrayList<>();
        private String agentVersion = "layerswarm/0.1.0";
        // Data frames sized so frame + header fill one Noise message instead of spilling into a second.
        private YamuxConfig yamux = YamuxConfig.defaults()
                .withMaxFrameSize(NoiseTransportHandler.MAX_PLAINTEXT - YamuxFrame.HEADER_SIZE);
        private int maxConnections = 512;
        private int maxBlockingStreams = 512;
        private int maxBlockingStreamsPerPeer = 64;
        private int maxConnectionsPerPeer = 4;
        private int maxInboundConnectionsPerAddress = 32;
        private int maxInboundHandshakesPerAddress = 16;
        private int maxInboundHandshakes = 256;
        private Duration idleTimeout = Duration.ofMinutes(5);
        private Duration keepAlive = Duration.ofSeconds(30);
        private Duration tick = Duration.ofSeconds(5);
        private Duration handshakeTimeout = Duration.ofSeconds(15);
        private int ioThreads = 0;
        private EventLoopGroup group;
        private SwarmKey swarmKey;
        // TLS first: AES-GCM (BoringSSL, or the JDK's intrinsics) carries 5-10x Noise's ChaCha20 (BENCHMARKS.md).
        private List<String> security = List.of(TlsSecurity.PROTOCOL_ID, NoiseSecurity.PROTOCOL_ID);
        private TlsSecurity.Engine tlsEngine = TlsSecurity.Engine.AUTO;
        private BandwidthLimiter uploadLimit;
        private BandwidthLimiter downloadLimit;

        private Builder(PrivateKey identity) {
            this.identity = Objects.requireNonNull(identity);
        }

        /**
         * Adds a listen multiaddr: TCP ({@code /ip4/0.0.0.0/tcp/0} and the like) or QUIC v1
         * ({@code /ip4/0.0.0.0/udp/0/quic-v1}; where QUIC's native library loads).
         */
        public Builder listen(Multiaddr addr) {
            listen.add(addr);
            return this;
        }

        /**
         * Security protocols, most preferred first: offered in this order when dialling, any of
         * them accepted when listening ({@code /tls/1.0.0}, {@code /noise}; default both, TLS first because
         * its AES-GCM is several times faster than Noise's ChaCha20 on JDK 17 — see BENCHMARKS.md "libp2p throughput").
         */
        public Builder security(List<String> protocols) {
            security = List.copyOf(protocols);
            return this;
        }

        /** Which TLS implementation {@code /tls/1.0.0} runs on (default {@link TlsSecurity.Engine#AUTO}). */
        public Builder tlsEngine(TlsSecurity.Engine engine) {
            tlsEngine = Objects.requireNonNull(engine, "engine");
            return this;
        }

        /** Agent version advertised by identify. */
        public Builder agentVersion(String v) {
            agentVersion = v;
            return this;
        }

        /** Yamux limits. */
        public Builder yamux(YamuxConfig c) {
            yamux = c;
            return this;
        }

        /** Cap on simultaneous connections. */
        public Builder maxConnections(int n) {
            maxConnections = n;
            return this;
        }

        /** Cap on inbound streams served by blocking handlers at once. */
        public Builder maxBlockingStreams(int n) {
            maxBlockingStreams = n;
            return this;
        }

        /**
         * Cap on inbound streams one peer may have on blocking handlers at once (default 64, an eighth of
         * {@link #maxBlockingStreams}); its further streams are reset, so a peer holding streams open
         * cannot starve the others.
         */
        public Builder maxBlockingStreamsPerPeer(int n) {
            maxBlockingStreamsPerPeer = n;
            return this;
        }

        /**
         * Cap on simultaneous connections to one peer (default 4: a kept one, a duplicate from a
         * simultaneous dial, a relayed one being replaced); further ones are refused, so one peer
         * cannot fill {@link #maxConnections}.
         */
        public Builder maxConnectionsPerPeer(int n) {
            maxConnectionsPerPeer = n;
            return this;
        }

        /**
         * Cap on inbound direct connections from one remote IP address, whatever peer ids they show
         * (default 32, a sixteenth of {@link #maxConnections}): one machine minting identities cannot
         * take more slots than that. A peer normally keeps one connection (four at most, see
         * {@link #maxConnectionsPerPeer}), so 32 leaves room for 8-32 nodes behind one NAT address, and
         * for the tests that run several nodes on 127.0.0.1; loopback is not exempt, a local attacker
         * being one too. Dialled and relayed connections do not count.
         */
        public Builder maxInboundConnectionsPerAddress(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxInboundConnectionsPerAddress must be positive: " + n);
            }
            maxInboundConnectionsPerAddress = n;
            return this;
        }

        /**
         * Cap on inbound TCP connections from one remote IP address whose upgrade (security handshake
         * and muxer negotiation) is in progress (default 16, half of
         * {@link #maxInboundConnectionsPerAddress}: a handshake takes milliseconds, a connection lasts);
         * further ones are closed at once ({@code event=handshake_refused}), so connections that never
         * speak cannot pile up for the handshake timeout each.
         */
        public Builder maxInboundHandshakesPerAddress(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxInboundHandshakesPerAddress must be positive: " + n);
            }
            maxInboundHandshakesPerAddress = n;
            return this;
        }

        /**
         * Cap on inbound TCP connections whose upgrade is in progress, from all addresses together
         * (default 256, half of {@link #maxConnections}); further ones are closed at once.
         */
        public Builder maxInboundHandshakes(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxInboundHandshakes must be positive: " + n);
            }
            maxInboundHandshakes = n;
            return this;
        }

        /** Connections without streams for this long are closed. */
        public Builder idleTimeout(Duration d) {
            idleTimeout = d;
            return this;
        }

        /** Connections without streams for this long are pinged. */
        public Builder keepAlive(Duration d) {
            keepAlive = d;
            return this;
        }

        /** Period of the connection manager's tick. */
        public Builder tick(Duration d) {
            tick = d;
            return this;
        }

        /** Deadline for TCP connect plus security and muxer upgrade. */
        public Builder handshakeTimeout(Duration d) {
            handshakeTimeout = d;
            return this;
        }

        /** Number of I/O threads of the host's own event loop group (0: Netty's default). */
        public Builder ioThreads(int n) {
            ioThreads = n;
            return this;
        }

        /** Runs on a shared event loop group (not shut down by {@link Host#close()}). */
        public Builder eventLoopGroup(EventLoopGroup g) {
            group = g;
            return this;
        }

        /**
         * Makes this a private-network host: every connection is encrypted with the swarm key
         * (libp2p pnet) before anything else is sent; peers without the same key cannot connect.
         */
        public Builder swarmKey(SwarmKey key) {
            swarmKey = key;
            return this;
        }

        /**
         * Limits the bytes sent and received on all of this host's connections together (each limiter
         * may be {@code null} for no limit; a limiter may also be shared by several hosts).
         */
        public Builder bandwidth(BandwidthLimiter upload, BandwidthLimiter download) {
            uploadLimit = upload;
            downloadLimit = download;
            return this;
        }

        /** Creates the host (not yet listening: call {@link Host#start()}). */
        public Host build() {
            return new Host(this);
        }
    }

}
