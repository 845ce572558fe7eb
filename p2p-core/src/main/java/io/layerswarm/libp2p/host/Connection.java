package io.layerswarm.libp2p.host;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PublicKey;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.mux.StreamMuxer;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A secured, multiplexed connection to one peer (TCP with TLS or Noise and Yamux, or QUIC). Streams are opened with
 * {@link #newStream}; {@link Host#newStream} picks or dials the connection for you.
 */
public final class Connection {
    private final Host host;
    private final Channel channel;
    private final StreamMuxer session;
    private final PeerId remotePeer;
    private final PublicKey remoteKey;
    private final boolean initiator;
    private final String securityProtocol;
    private final Multiaddr localAddr;
    private final Multiaddr remoteAddr;
    private volatile long lastActivityNanos = System.nanoTime();
    private volatile CompletableFuture<Duration> keepAlive;
    private volatile long keepAliveSentNanos;
    private final AtomicInteger keepAlivesAnswered = new AtomicInteger();

    Connection(Host host, Channel channel, StreamMuxer session, PeerId remotePeer, PublicKey remoteKey,
               boolean initiator, String securityProtocol, Multiaddr localAddr, Multiaddr remoteAddr) {
        this.host = host;
        this.channel = channel;
        this.session = session;
        this.remotePeer = remotePeer;
        this.remoteKey = remoteKey;
        this.initiator = initiator;
        this.securityProtocol = securityProtocol;
        this.localAddr = localAddr;
        this.remoteAddr = remoteAddr;
    }

    /** The authenticated remote peer. */
    public PeerId remotePeer() {
        return remotePeer;
    }

    /** The negotiated security protocol ({@code /noise} or {@code /tls/1.0.0}). */
    public String securityProtocol() {
        return securityProtocol;
    }

    /** The remote peer's identity key (from the security handshake). */
    public PublicKey remotePublicKey() {
        return remoteKey;
    }

    /** Whether this side dialled. */
    public boolean isInitiator() {
        return initiator;
    }

    /**
     * Whether the connection runs through a relay (its remote address is a {@code /p2p-circuit} address):
     * usable, but a direct connection to the same peer is preferred.
     */
    public boolean isRelayed() {
        return remoteAddr.valueOf(MultiaddrProtocol.P2P_CIRCUIT).isPresent();
    }

    /**
     * The peer's IP address as this side sees it, for caps per remote machine; empty for a relayed
     * connection (its address is the relay's, shared by every peer behind it).
     */
    public java.util.Optional<String> remoteIp() {
        if (isRelayed()) {
            return java.util.Optional.empty();
        }
        return remoteAddr.valueOf(MultiaddrProtocol.IP4).or(() -> remoteAddr.valueOf(MultiaddrProtocol.IP6));
    }

    /** Local address (TCP, or what the transport that made the connection says). */
    public Multiaddr localAddr() {
        return localAddr;
    }

    /** Remote address (what we observe of the peer: TCP, or a relay circuit). */
    public Multiaddr remoteAddr() {
        return remoteAddr;
    }

    /** The underlying connection channel. */
    public Channel channel() {
        return channel;
    }

    /** The stream muxer (a {@link io.layerswarm.libp2p.yamux.YamuxSession}, or QUIC's streams). */
    public StreamMuxer muxer() {
        return session;
    }

    /** Whether the connection is still open. */
    public boolean isOpen() {
        return channel.isActive();
    }

    /** Opens a stream negotiating the first of {@code protocols} the peer supports; blocking I/O enabled. */
    public CompletableFuture<P2pStream> newStream(List<String> protocols) {
        return host.openStream(this, protocols, null);
    }

    /** Opens a stream and sets it up with {@code handler} on the event loop (pipeline API). */
    public CompletableFuture<P2pStream> newStream(List<String> protocols, StreamHandler handler) {
        return host.openStream(this, protocols, handler);
    }

    /** Muxer-level ping (keep-alive); completes with the round-trip time. */
    public CompletableFuture<Duration> ping() {
        CompletableFuture<Duration> f = new CompletableFuture<>();
        session.ping().addListener(r -> {
            if (r.isSuccess()) {
                f.complete(Duration.ofNanos((Long) r.getNow()));
            } else {
                f.completeExceptionally(r.cause());
            }
        });
        return f;
    }

    /** Closes the connection (Yamux go-away, then TCP close; or QUIC CONNECTION_CLOSE). */
    public CompletableFuture<Void> close() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        channel.closeFuture().addListener(x -> f.complete(null));
        if (channel.isActive()) {
            session.close();
        }
        return f;
    }

    /** Sends a keep-alive ping unless one is already outstanding. */
    CompletableFuture<Duration> keepAlivePing() {
        CompletableFuture<Duration> p = keepAlive;
        if (p == null || p.isDone()) {
            keepAliveSentNanos = System.nanoTime();
            p = ping();
            p.thenRun(keepAlivesAnswered::incrementAndGet);
            keepAlive = p;
        }
        return p;
    }

    /** Keep-alive pings the peer has answered (lets a test see the keep-alive at work). */
    int keepAlivesAnswered() {
        return keepAlivesAnswered.get();
    }

    /** Whether the outstanding keep-alive ping is older than {@code timeoutNanos}. */
    boolean keepAliveOverdue(long timeoutNanos) {
        CompletableFuture<Duration> p = keepAlive;
        return p != null && !p.isDone() && System.nanoTime() - keepAliveSentNanos > timeoutNanos;
    }

    void touch() {
        lastActivityNanos = System.nanoTime();
    }

    long idleNanos() {
        return session.streamCount() > 0 ? 0 : System.nanoTime() - lastActivityNanos;
    }

    @Override
    public String toString() {
        return "Connection{" + remotePeer + " " + remoteAddr + (initiator ? " out" : " in") + "}";
    }
}
