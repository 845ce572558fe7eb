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
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The security phase of a libp2p connection upgrade:
 * {@code TCP -> [pnet] -> multistream-select(/noise) -> Noise}. Call {@link #secure} on a fresh,
 * active channel; when the returned future succeeds the pipeline ends with the Noise transport
 * handler, carrying plaintext {@code ByteBuf}s, ready for muxer negotiation
 * ({@code multistream-select(/yamux/1.0.0)}), which the host adds with {@code addLast}. On failure
 * or timeout the channel is closed and the future fails with a {@link MultistreamException},
 * {@link NoiseException} (including {@link io.layerswarm.libp2p.noise.PeerIdMismatchException}), or
 * {@link SecurityTimeoutException}.
 */
public final class SecurityUpgrader {

    /** Default deadline for the whole security phase. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

    private final NoiseSecurity noise;
    private final SwarmKey swarmKey;
    private final Duration timeout;

    /** Noise with {@code identity}, no private network, default timeout. */
    public SecurityUpgrader(PrivateKey identity) {
        this(new NoiseSecurity(identity), null, DEFAULT_TIMEOUT);
    }

    /** With a configured Noise. */
    public SecurityUpgrader(NoiseSecurity noise) {
        this(noise, null, DEFAULT_TIMEOUT);
    }

    private SecurityUpgrader(NoiseSecurity noise, SwarmKey swarmKey, Duration timeout) {
        this.noise = Objects.requireNonNull(noise, "noise");
        this.swarmKey = swarmKey;
        this.timeout = timeout;
    }

    /** A copy that protects connections with a private network key (null: public network). */
    public SecurityUpgrader withPrivateNetwork(SwarmKey key) {
        return new SecurityUpgrader(noise, key, timeout);
    }

    /** A copy with another deadline for the security phase. */
    public SecurityUpgrader withTimeout(Duration deadline) {
        return new SecurityUpgrader(noise, swarmKey, deadline);
    }

    /** The local peer id. */
    public PeerId localPeerId() {
        return noise.identity().peerId();
    }

    /** {@link #secure(Channel, MultistreamNegotiator.Role, PeerId, Consumer)} without a callback. */
    public Future<NoiseSession> secure(Channel channel, MultistreamNegotiator.Role role, PeerId expectedRemote) {
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
    public Future<NoiseSession> secure(Channel channel, MultistreamNegotiator.Role role, PeerId expectedRemote,
            Consumer<NoiseSession> onSecured) {
        Promise<NoiseSession> promise = channel.eventLoop().newPromise();
        if (channel.eventLoop().inEventLoop()) {
            start(channel, role, expectedRemote, onSecured, promise);
        } else {
            channel.eventLoop().execute(() -> start(channel, role, expectedRemote, onSecured, promise));
        }
        return promise;
    }

    private void start(Channel channel, MultistreamNegotiator.Role role, PeerId expectedRemote,
            Consumer<NoiseSession> onSecured, Promise<NoiseSession> promise) {
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
        ProtocolInstaller installNoise = (anchor, protocol) ->
                noise.installAfter(anchor, initiator, expectedRemote, onSecured, promise);
        List<String> protocols = List.of(NoiseSecurity.PROTOCOL_ID);
        Future<String> negotiated = initiator
                ? MultistreamSelect.initiate(pipeline, protocols, installNoise)
                : MultistreamSelect.respond(pipeline, protocols, installNoise);
        negotiated.addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
            }
        });
    }
}
