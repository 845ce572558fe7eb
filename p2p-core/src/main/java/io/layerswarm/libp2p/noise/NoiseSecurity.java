package io.layerswarm.libp2p.noise;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Facade for the libp2p Noise security transport ({@value #PROTOCOL_ID}). One instance per local
 * identity; it holds the node's Noise static key (libp2p allows reusing it across connections, since
 * the identity signature binds it) and installs the handshake on channels.
 */
public final class NoiseSecurity {

    /** The multistream protocol id. */
    public static final String PROTOCOL_ID = "/noise";
    /** Default handshake deadline. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private final PrivateKey identity;
    private final X25519KeyPair staticKey;
    private final SecureRandom random;
    private final List<String> streamMuxers;
    private final Duration timeout;

    /** With a fresh static key, no advertised muxers, the default timeout. */
    public NoiseSecurity(PrivateKey identity) {
        this(identity, new SecureRandom(), List.of(), DEFAULT_TIMEOUT);
    }

    private NoiseSecurity(PrivateKey identity, SecureRandom random, List<String> streamMuxers, Duration timeout) {
        this(identity, X25519KeyPair.generate(random), random, streamMuxers, timeout);
    }

    private NoiseSecurity(PrivateKey identity, X25519KeyPair staticKey, SecureRandom random, List<String> streamMuxers,
            Duration timeout) {
        this.identity = Objects.requireNonNull(identity, "identity");
        this.staticKey = staticKey;
        this.random = random;
        this.streamMuxers = List.copyOf(streamMuxers);
        this.timeout = timeout;
    }

    /**
     * A copy advertising {@code muxers} in the handshake extensions. Only for hosts that implement
     * early muxer negotiation ({@link NoiseSession#earlyMuxer}): a js-libp2p peer that sees this list
     * skips the multistream-select round for the muxer. The default advertises nothing.
     */
    public NoiseSecurity withStreamMuxers(List<String> muxers) {
        return new NoiseSecurity(identity, staticKey, random, muxers, timeout);
    }

    /** A copy with another handshake deadline. */
    public NoiseSecurity withTimeout(Duration handshakeTimeout) {
        return new NoiseSecurity(identity, staticKey, random, streamMuxers, handshakeTimeout);
    }

    /** The local identity. */
    public PrivateKey identity() {
        return identity;
    }

    /**
     * Installs frame codec and handshake at the end of {@code pipeline}.
     *
     * @param initiator whether this side dialled
     * @param expectedRemote the dialled peer (mismatch fails with
     *        {@link io.layerswarm.libp2p.crypto.PeerIdMismatchException}), or null
     * @param onSecured run on the event loop once secured, before any later byte is passed on (may be null)
     * @return the session, or a failure (the channel is then closed)
     */
    public Future<NoiseSession> install(ChannelPipeline pipeline, boolean initiator, PeerId expectedRemote,
            Consumer<NoiseSession> onSecured) {
        Promise<NoiseSession> promise = pipeline.channel().eventLoop().newPromise();
        pipeline.addLast("noise-frame-decoder", new NoiseFrameDecoder());
        pipeline.addLast("noise-frame-encoder", new NoiseFrameEncoder());
        pipeline.addLast("noise", handshake(initiator, expectedRemote, onSecured, promise));
        return promise;
    }

    /**
     * Installs frame codec and handshake right after {@code anchor} (for use from a multistream
     * {@link io.layerswarm.libp2p.multistream.ProtocolInstaller}).
     */
    public Future<NoiseSession> installAfter(ChannelHandlerContext anchor, boolean initiator, PeerId expectedRemote,
            Consumer<NoiseSession> onSecured, Promise<NoiseSession> promise) {
        ChannelPipeline p = anchor.pipeline();
        // Framing first: an initiator's handshake handler writes message 1 as soon as it is added.
        p.addAfter(anchor.name(), "noise-frame-decoder", new NoiseFrameDecoder());
        p.addAfter("noise-frame-decoder", "noise-frame-encoder", new NoiseFrameEncoder());
        p.addAfter("noise-frame-encoder", "noise", handshake(initiator, expectedRemote, onSecured, promise));
        return promise;
    }

    private NoiseHandshakeHandler handshake(boolean initiator, PeerId expectedRemote, Consumer<NoiseSession> onSecured,
            Promise<NoiseSession> promise) {
        return new NoiseHandshakeHandler(initiator, identity, staticKey, streamMuxers, expectedRemote, timeout, random,
                onSecured, promise);
    }
}
