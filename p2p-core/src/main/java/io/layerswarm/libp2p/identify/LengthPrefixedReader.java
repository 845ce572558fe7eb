package io.layerswarm.libp2p.identify;

import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Varint;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Reads one {@link LengthPrefixed} message from a stream (at most {@code maxSize} bytes),
 * then closes the stream. Fails on oversize, truncation or a reset.
 */
final class LengthPrefixedReader extends ChannelInboundHandlerAdapter {
    private final int maxSize;
    private final CompletableFuture<byte[]> result;
    private ByteBuf acc;

    LengthPrefixedReader(int maxSize, CompletableFuture<byte[]> result) {
        this.maxSize = maxSize;
        this.result = result;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        acc = ctx.alloc().buffer();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        acc.release();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf b = (ByteBuf) msg;
        try {
            if (result.isDone()) {
                return;
            }
            if (acc.readableBytes() + b.readableBytes() > maxSize + Varint.MAX_BYTES) {
                fail(ctx, new IOException("message exceeds " + maxSize + " bytes"));
                return;
            }
            acc.writeBytes(b);
            byte[] body;
            try {
                body = LengthPrefixed.tryRead(acc, maxSize, IOException::new);
            } catch (IOException e) {
                fail(ctx, e);
                return;
            }
            if (body == null) {
                return;
            }
            result.complete(body);
            ctx.close();
        } finally {
            b.release();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && !result.isDone()) {
            fail(ctx, new IOException("stream ended before a complete message (" + acc.readableBytes() + " bytes)"));
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        result.completeExceptionally(new IOException("stream closed before a complete message"));
        ctx.fireChannelInactive();
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        result.completeExceptionally(cause);
        ctx.close();
    }
}
