package io.layerswarm.libp2p.yamux;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/** {@link YamuxFrame}s to bytes; the payload is passed on without copying. Stateless, shareable. */
@ChannelHandler.Sharable
public final class YamuxFrameEncoder extends ChannelOutboundHandlerAdapter {

    /** Writes the 12-byte header of {@code frame} into {@code out}. */
    public static void writeHeader(YamuxFrame frame, ByteBuf out) {
        out.writeByte(YamuxFrame.VERSION);
        out.writeByte(frame.type());
        out.writeShort(frame.flags());
        out.writeInt(frame.streamId());
        out.writeInt((int) frame.length());
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof YamuxFrame frame)) {
            ctx.write(msg, promise);
            return;
        }
        ByteBuf header = ctx.alloc().buffer(YamuxFrame.HEADER_SIZE);
        writeHeader(frame, header);
        ByteBuf data = frame.data();
        if (data == null || !data.isReadable()) {
            if (data != null) {
                data.release();
            }
            ctx.write(header, promise);
        } else {
            ctx.write(ctx.alloc().compositeBuffer(2).addComponents(true, header, data), promise);
        }
    }
}
