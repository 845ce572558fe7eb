package io.layerswarm.libp2p.security;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.multistream.MultistreamException;
import io.layerswarm.libp2p.multistream.MultistreamNegotiator;
import io.layerswarm.libp2p.multistream.MultistreamSelect;
import io.layerswarm.libp2p.multistream.ProtocolInstaller;
import io.layerswarm.libp2p.noise.NoiseException;
import io.layerswarm.libp2p.noise.NoiseSecurity;
import io.layerswarm.libp2p.noise.NoiseSession;
import io.layerswarm.libp2p.pnet.PnetProtector;
import io.layerswarm.libp2p.pnet.SwarmKey;
import io.layerswarm.libp2p.tls.TlsException;
import io.layerswarm.libp2p.tls.TlsSecurity;
import io.layerswarm.libp2p.tls.TlsSession;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The security phase of a libp2p connection upgrade:
 * {@code TCP -> [pnet] -> multistream-select(/noise | /tls/1.0.0) -> Noise or TLS 1.3}. The initiator
 * proposes its {@link #protocols() preference list} in order; the responder accepts any protocol in
 * its list. Call {@link #secure} on a fresh, active channel; when the returned future succeeds the
 * pipeline ends with the security transport's handlers, carrying plaintext {@code ByteBuf}s, ready
 * for muxer negotiation ({@code multistream-select(/yamux/1.0.0)}), which the host adds with
 * {@code addLast}. On failure or timeout the channel is closed and the future fails with a
 * {@link MultistreamException}, {@link NoiseException}, {@link TlsException},
 * {@link io.layerswarm.libp2p.crypto.PeerIdMismatchException} (either protocol authenticated someone other than the dialled
 * peer) or {@link SecurityTimeoutException}.
 */
public final class SecurityUpgrader {

    /** Default deadline for the whole security phase. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

    private final NoiseSecurity noise;
    private final TlsSecurity tls;
    private final List<String> protocols;
    private final SwarmKey swarmKey;
    private final Duration timeout;

    /** Noise with {@code identity}, no private network, default timeout. */
    public SecurityUpgrader(PrivateKey identity) {
        this(new NoiseSecurity(identity), null, List.of(NoiseSecurity.PROTOCOL_ID), null, DEFAULT_TIMEOUT);
    }

    /** With a configured Noise. */
    public SecurityUpgrader(NoiseSecurity noise) {
        this(noise, null, List.of(NoiseSecurity.PROTOCOL_ID), null, DEFAULT_TIMEOUT);
    }

    private SecurityUpgrader(NoiseSecurity noise, TlsSecurity tls, List<String> protocols, SwarmKey swarmKey,
            Duration timeout) {
        this.noise = Objects.requireNonNull(noise, "noise");
        this.tls = tls;
        this.protocols = List.copyOf(protocols);
        this.swarmKey = swarmKey;
        this.timeout = timeout;
    }

    /**
     * A copy offering (initiator, in this order of preference) and accepting (responder) the given
     * security protocols, each {@link NoiseSecurity#PROTOCOL_ID} or {@link TlsSecurity#PROTOCOL_ID}.
     * A TLS certificate for the identity is made here if TLS is listed and none was given.
     *
     * @throws IllegalArgumentException for an empty list or an unknown protocol
     */
    public SecurityUpgrader withProtocols(List<String> preference) {
        if (preference.isEmpty()) {
            throw new IllegalArgumentException("at least one security protocol is needed");
        }
        for (String p : preference) {
            if (!p.equals(NoiseSecurity.PROTOCOL_ID) && !p.equals(TlsSecurity.PROTOCOL_ID)) {
                throw new IllegalArgumentException("unknown security protocol " + p + " (supported: "
                        + NoiseSecurity.PROTOCOL_ID + ", " + TlsSecurity.PROTOCOL_ID + ")");
            }
        }
        TlsSecurity t = tls == null && preference.contains(TlsSecurity.PROTOCOL_ID)
                ? new TlsSecurity(noise.identity()) : tls;
        return new SecurityUpgrader(noise, t, preference, swarmKey, timeout);
    }

    /** A copy using this configured TLS transport (must be for the same identity) for {@code /tls/1.0.0}. */
    public SecurityUpgrader withTls(TlsSecurity configured) {
        return new SecurityUpgrader(noise, configured, protocols, swarmKey, timeout);
    }

    /** The security protocols, most preferred first. */
    public List<String> protocols() {
        return protocols;
    }

    /** A copy that protects connections with a private network key (null: public network). */
    public SecurityUpgrader withPrivateNetwork(SwarmKey key) {
        return new SecurityUpgrader(noise, tls, protocols, key, timeout);
    }

    /** A copy with another deadline for the security phase. */
    public SecurityUpgrader withTimeout(Duration deadline) {
        return new SecurityUpgrader(noise, tls, protocols, swarmKey, deadline);
    }

    /** The local peer id. */
    public PeerId localPeerId() {
        return noise.identity().peerId();
    }

    /** {@link #secure(Channel, MultistreamNegotiator.Role, PeerId, Consumer)} without a callback. */
    public Future<SecureSession> secure(Channel channel, MultistreamNegotiator.Role role, PeerId expectedRemote) {
        return secure(channel, role, expectedRemote, null);
    }

    /**
     * Secures {@code channel}. Call it on the channel's event loop before the first inbound byte is
     * read — from a {@code ChannelInitializer} or {@code channelActive} — because the remote starts
     * multistream-select immediately and bytes that arrive before the negotiator is installed are lost.
     * (Calls from other threads are handed to the event loop, which is only safe before connect.)
     *
     * @param role initiator if this side dialled
     * @param expectedRemote the peer id dialled (checked), or null when unknown (e.g. inbound)
     * @param onSecured run on the event loop as soon as the session is up and before any further
     *     inbound byte is passed on: install the muxer negotiation here to never lose early data
     *     (listeners of the returned future run at the same point in practice, but this is the guarantee)
     */
    public Future<SecureSession> secure(Channel channel, MultistreamNegotiator.Role role, PeerId expectedRemote,
            Consumer<SecureSession> onSecured) {
        Promise<SecureSession> promise = channel.eventLoop().newPromise();
        if (channel.eventLoop().inEventLoop()) {
            start(channel, role, expectedRemote, onSecured, promise);
        } else {
            channel.eventLoop().execute(() -> start(channel, role, expectedRemote, onSecured, promise));
        }
        return promise;
    }

    private void start(Channel channel, MultistreamNegotiator.Role role, PeerId expectedRemote,
            Consumer<SecureSession> onSecured, Promise<SecureSession> promise) {
        ScheduledFuture<?> timer = channel.eventLoop().schedule(() -> {
            if (promise.tryFailure(new SecurityTimeoutException("security upgrade with " + channel.remoteAddress()
                    + " did not finish within " + timeout.toMillis() + " ms"))) {
                channel.close();
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        promise.addListener(f -> timer.cancel(false));

        ChannelPipeline pipeline = channel.pipeline();
        if (swarmKey != null) {
            pipeline.addLast("pnet", new PnetProtector(swarmKey));
        }
        boolean initiator = role == MultistreamNegotiator.Role.INITIATOR;
        ProtocolInstaller install = (anchor, protocol) -> {
            if (protocol.equals(TlsSecurity.PROTOCOL_ID)) {
                installTls(anchor, initiator, expectedRemote, onSecured, promise);
            } else {
                installNoise(anchor, initiator, expectedRemote, onSecured, promise);
            }
        };
        Future<String> negotiated = initiator
                ? MultistreamSelect.initiate(pipeline, protocols, install)
                : MultistreamSelect.respond(pipeline, protocols, install);
        negotiated.addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
            }
        });
    }

    private void installNoise(ChannelHandlerContext anchor, boolean initiator, PeerId expectedRemote,
            Consumer<SecureSession> onSecured, Promise<SecureSession> promise) {
        Promise<NoiseSession> inner = anchor.executor().newPromise();
        noise.installAfter(anchor, initiator, expectedRemote, bridge(inner, promise, onSecured,
                s -> new SecureSession(NoiseSecurity.PROTOCOL_ID, s.remotePeerId(), s.remoteIdentityKey(),
                        s.remoteStreamMuxers())), inner);
    }

    private void installTls(ChannelHandlerContext anchor, boolean initiator, PeerId expectedRemote,
            Consumer<SecureSession> onSecured, Promise<SecureSession> promise) {
        Promise<TlsSession> inner = anchor.executor().newPromise();
        tls.installAfter(anchor, initiator, expectedRemote, bridge(inner, promise, onSecured,
                s -> new SecureSession(TlsSecurity.PROTOCOL_ID, s.remotePeerId(), s.remoteIdentityKey(), List.of())),
                inner);
    }

    /** Forwards a transport's failure and, mapped, its success (callback first) to the phase's promise. */
    private static <S> Consumer<S> bridge(Promise<S> inner, Promise<SecureSession> promise,
            Consumer<SecureSession> onSecured, Function<S, SecureSession> map) {
        inner.addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
            }
        });
        return s -> {
            SecureSession secured = map.apply(s);
            if (onSecured != null) {
                onSecured.accept(secured);
            }
            promise.trySuccess(secured);
        };
    }
}
