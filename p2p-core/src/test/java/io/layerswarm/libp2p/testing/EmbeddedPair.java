package io.layerswarm.libp2p.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

/**
 * Two {@link EmbeddedChannel}s wired back to back: {@link #pump()} moves every outbound buffer of
 * one side into the other until both are quiet. Deterministic, single-threaded protocol tests.
 */
public final class EmbeddedPair {

    /** The dialling side. */
    public final EmbeddedChannel initiator = new EmbeddedChannel();
    /** The listening side. */
    public final EmbeddedChannel responder = new EmbeddedChannel();

    /** Moves bytes both ways until nothing is left in flight. */
    public void pump() {
        boolean moved;
        do {
            initiator.runPendingTasks();
            responder.runPendingTasks();
            moved = transfer(initiator, responder) | transfer(responder, initiator);
            // like TCP: when one side closes, the other sees the connection end
            if (initiator.isOpen() != responder.isOpen()) {
                (initiator.isOpen() ? initiator : responder).close();
                moved = true;
            }
        } while (moved);
    }

    /** Moves one side's pending output into the other; returns whether anything moved. */
    public static boolean transfer(EmbeddedChannel from, EmbeddedChannel to) {
        boolean any = false;
        Object m;
        while ((m = from.readOutbound()) != null) {
            any = true;
            if (to.isOpen()) {
                to.writeInbound(m);
            } else {
                ReferenceCountUtil.release(m);
            }
        }
        return any;
    }

    /** All bytes that reached the tail of {@code ch}'s pipeline, concatenated. */
    public static byte[] drainInbound(EmbeddedChannel ch) {
        ByteBuf all = Unpooled.buffer();
        Object m;
        while ((m = ch.readInbound()) != null) {
            all.writeBytes((ByteBuf) m);
            ((ByteBuf) m).release();
        }
        byte[] out = new byte[all.readableBytes()];
        all.readBytes(out);
        all.release();
        return out;
    }

    /** A handler that collects inbound buffers into one (for use after an upgrade). */
    public static final class Collector extends ChannelInboundHandlerAdapter {
        /** Everything received so far. */
        public final ByteBuf received = Unpooled.buffer();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            received.writeBytes((ByteBuf) msg);
            ReferenceCountUtil.release(msg);
        }

        /** The received bytes as a string. */
        public String text() {
            return received.toString(java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
