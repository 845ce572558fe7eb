package io.layerswarm.libp2p.multistream;

import io.netty.channel.ChannelPipeline;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.Collection;
import java.util.List;

/**
 * Facade for multistream-select 1.0 ({@code /multistream/1.0.0}) on a Netty pipeline. Adds the
 * message codec and a {@link MultistreamNegotiator} at the end of the pipeline; they remove
 * themselves once a protocol is agreed.
 */
public final class MultistreamSelect {

    private MultistreamSelect() {
    }

    /**
     * Proposes {@code protocols} in order.
     *
     * @return completes with the protocol the peer accepted, or fails ({@link MultistreamException})
     *     after closing the channel
     */
    public static Future<String> initiate(ChannelPipeline pipeline, List<String> protocols, ProtocolInstaller installer) {
        return install(pipeline, MultistreamNegotiator.Role.INITIATOR, protocols, installer,
                MultistreamNegotiator.DEFAULT_MAX_ATTEMPTS);
    }

    /**
     * Answers proposals, accepting the first that is in {@code supported}.
     *
     * @return completes with the accepted protocol, or fails after closing the channel
     */
    public static Future<String> respond(ChannelPipeline pipeline, Collection<String> supported,
            ProtocolInstaller installer) {
        return install(pipeline, MultistreamNegotiator.Role.RESPONDER, List.copyOf(supported), installer,
                MultistreamNegotiator.DEFAULT_MAX_ATTEMPTS);
    }

    /** Full-control variant. */
    public static Future<String> install(ChannelPipeline pipeline, MultistreamNegotiator.Role role,
            List<String> protocols, ProtocolInstaller installer, int maxAttempts) {
        Promise<String> promise = pipeline.channel().eventLoop().newPromise();
        String id = Integer.toHexString(System.identityHashCode(promise));
        String dec = "mss-decoder@" + id;
        String enc = "mss-encoder@" + id;
        MultistreamNegotiator negotiator = new MultistreamNegotiator(role, protocols, installer, promise,
                maxAttempts, dec, enc);
        pipeline.addLast(dec, new MultistreamMessageDecoder());
        pipeline.addLast(enc, new MultistreamMessageEncoder());
        pipeline.addLast("mss@" + id, negotiator);
        return promise;
    }
}
