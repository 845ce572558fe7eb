package io.layerswarm.libp2p.multistream;

import io.layerswarm.libp2p.multiformats.Varint;
import io.layerswarm.libp2p.upgrade.UpgradeStepHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * multistream-select 1.0 negotiation behaviour (the framing lives in the message decoder/encoder
 * placed before it). The initiator pipelines the header and its first proposal, then walks its list on
 * {@code na}; the responder echoes a supported proposal, answers {@code na} otherwise and lists its
 * protocols on {@code ls}. On agreement it calls the {@link ProtocolInstaller}, removes itself and
 * the codec (releasing any early data to the installed handlers), then completes the promise.
 * On any failure the promise fails and the channel is closed.
 */
public final class MultistreamNegotiator extends UpgradeStepHandler {

    /** The protocol id of multistream-select itself. */
    public static final String HEADER = "/multistream/1.0.0";
    /** The rejection message. */
    public static final String NA = "na";
    /** The list request. */
    public static final String LS = "ls";
    /** Default cap on proposals a responder answers before giving up. */
    public static final int DEFAULT_MAX_ATTEMPTS = 16;

    private static final Logger LOG = LoggerFactory.getLogger(MultistreamNegotiator.class);

    /** Which side of the negotiation this is. */
    public enum Role {
        /** Proposes protocols. */
        INITIATOR,
        /** Accepts or rejects proposals. */
        RESPONDER
    }

    private final Role role;
    private final List<String> protocols;
    private final ProtocolInstaller installer;
    private final Promise<String> result;
    private final int maxAttempts;
    private final String decoderName;
    private final String encoderName;

    private boolean headerReceived;
    private int proposal;
    private int attempts;

    /**
     * @param role initiator or responder
     * @param protocols initiator: proposals in preference order; responder: supported protocols
     * @param installer installs the chosen protocol's handlers
     * @param result completed with the chosen protocol
     * @param maxAttempts responder: most proposals answered before failing
     * @param decoderName pipeline name of the message decoder to remove on completion
     * @param encoderName pipeline name of the message encoder to remove on completion
     */
    MultistreamNegotiator(Role role, List<String> protocols, ProtocolInstaller installer, Promise<String> result,
            int maxAttempts, String decoderName, String encoderName) {
        this.role = Objects.requireNonNull(role);
        this.protocols = List.copyOf(new LinkedHashSet<>(protocols));
        for (String p : this.protocols) {
            if (p.isEmpty() || p.indexOf('\n') >= 0 || p.getBytes(StandardCharsets.UTF_8).length
                    >= MultistreamMessageDecoder.MAX_MESSAGE_LENGTH) {
                throw new IllegalArgumentException("invalid protocol id '" + p + "'");
            }
        }
        if (role == Role.INITIATOR && this.protocols.isEmpty()) {
            throw new IllegalArgumentException("initiator needs at least one protocol to propose");
        }
        this.installer = Objects.requireNonNull(installer);
        this.result = result;
        this.maxAttempts = maxAttempts;
        this.decoderName = decoderName;
        this.encoderName = encoderName;
    }

    @Override
    protected void onActive(ChannelHandlerContext ctx) {
        ctx.write(HEADER);
        if (role == Role.INITIATOR) {
            ctx.write(protocols.get(0));
        }
        ctx.flush();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof String line)) {
            ReferenceCountUtil.release(msg);
            fail(ctx, new MultistreamException("multistream: unexpected message type " + msg.getClass().getName()));
            return;
        }
        if (result.isDone()) {
            return;
        }
        if (!headerReceived) {
            if (!HEADER.equals(line)) {
                fail(ctx, new MultistreamException("multistream: peer spoke '" + printable(line) + "', expected "
                        + HEADER));
                return;
            }
            headerReceived = true;
            return;
        }
        if (role == Role.INITIATOR) {
            onResponse(ctx, line);
        } else {
            onProposal(ctx, line);
        }
    }

    private void onResponse(ChannelHandlerContext ctx, String line) {
        String proposed = protocols.get(proposal);
        if (line.equals(proposed)) {
            succeed(ctx, proposed);
        } else if (NA.equals(line)) {
            LOG.debug("event=mss_rejected protocol={} channel={}", proposed, ctx.channel().id());
            if (++proposal >= protocols.size()) {
                fail(ctx, new ProtocolNotSupportedException(protocols));
                return;
            }
            ctx.writeAndFlush(protocols.get(proposal));
        } else {
            fail(ctx, new MultistreamException("multistream: peer answered '" + printable(line) + "' to proposal "
                    + proposed));
        }
    }

    private void onProposal(ChannelHandlerContext ctx, String line) {
        if (++attempts > maxAttempts) {
            fail(ctx, new MultistreamException("multistream: peer made more than " + maxAttempts + " proposals"));
            return;
        }
        if (protocols.contains(line)) {
            ctx.writeAndFlush(line);
            succeed(ctx, line);
        } else if (LS.equals(line)) {
            ctx.writeAndFlush(lsResponse());
        } else {
            ctx.writeAndFlush(NA);
        }
    }

    /** The {@code ls} reply: one message whose body is each protocol as a message, then a newline. */
    private ByteBuf lsResponse() {
        ByteBuf inner = Unpooled.buffer();
        for (String p : protocols) {
            MultistreamMessageEncoder.encode(p, inner);
        }
        inner.writeByte('\n');
        ByteBuf prefix = Unpooled.buffer(Varint.MAX_BYTES);
        Varint.write(inner.readableBytes(), prefix);
        return Unpooled.wrappedBuffer(prefix, inner);
    }

    private void succeed(ChannelHandlerContext ctx, String protocol) {
        LOG.debug("event=mss_selected role={} protocol={} channel={}", role, protocol, ctx.channel().id());
        try {
            installer.install(ctx, protocol);
        } catch (RuntimeException e) {
            fail(ctx, new MultistreamException("multistream: installing " + protocol + " failed: " + e.getMessage(), e));
            return;
        }
        var pipeline = ctx.pipeline();
        removeIfPresent(pipeline, encoderName);
        pipeline.remove(this);
        // Removing the decoder last hands its leftover bytes to whatever the installer put after us.
        removeIfPresent(pipeline, decoderName);
        result.trySuccess(protocol);
    }

    private static void removeIfPresent(ChannelPipeline pipeline, String name) {
        if (name != null && pipeline.get(name) != null) {
            pipeline.remove(name);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (result.isDone()) {
            if (result.isSuccess()) {
                ctx.fireExceptionCaught(cause);
            } else {
                // failed and closing already: what the peer sent after the failure is of no interest
                LOG.debug("event=mss_error_after_failure channel={} reason=\"{}\"", ctx.channel().id(), cause.getMessage());
            }
            return;
        }
        fail(ctx, cause instanceof MultistreamException ? cause
                : new MultistreamException("multistream: " + cause.getMessage(), cause));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, new MultistreamException("multistream: connection closed during negotiation"));
        ctx.fireChannelInactive();
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        if (result.tryFailure(cause)) {
            LOG.debug("event=mss_failed role={} channel={} reason=\"{}\"", role, ctx.channel().id(), cause.getMessage());
            ctx.close();
        }
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && sb.length() < 64; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7F ? c : '?');
        }
        return sb.toString();
    }
}
