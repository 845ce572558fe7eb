package io.layerswarm.nat.relay;

import io.layerswarm.libp2p.multiformats.Varint;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Reads exactly one unsigned-varint length-prefixed message from a stream, hands it to a
 * {@link Listener}, removes itself and passes any bytes that followed the message on to the handlers
 * the listener installed (on a relay stream those are already the relayed connection's bytes).
 * Refuses oversized frames and fails when the stream ends or the deadline passes first.
 */
final class SingleFrameReader extends ChannelInboundHandlerAdapter {

    /** Receives the message or the failure; runs on the stream's event loop. */
    interface Listener {
        /** The message arrived; install what handles the rest of the stream here. */
        void onFrame(ChannelHandlerContext ctx, byte[] body) throws Exception;

        /** No message: truncated, oversized, timed out or the stream closed. The stream is closed. */
        void onFailure(Throwable cause);
    }

    private final int maxSize;
    private final Duration deadline;
    private final Listener listener;
    private ByteBuf acc;
    private ScheduledFuture<?> timer;
    private boolean done;

    SingleFrameReader(int maxSize, Duration deadline, Listener listener) {
        this.maxSize = maxSize;
        this.deadline = deadline;
        this.listener = listener;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        acc = ctx.alloc().buffer();
        timer = ctx.executor().schedule(() -> fail(ctx, new IOException("no relay message within " + deadline)),
                deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        timer.cancel(false);
        if (acc != null) {
            acc.release();
            acc = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        ByteBuf b = (ByteBuf) msg;
        try {
            if (done) {
                return;
            }
            acc.writeBytes(b);
        } finally {
            b.release();
        }
        int start = acc.readerIndex();
        long len;
        try {
            len = Varint.tryRead(acc);
        } catch (IllegalArgumentException e) {
            fail(ctx, new CircuitProtocolException("bad relay message length: " + e.getMessage(), e));
            return;
        }
        if (len < 0) {
            if (acc.readableBytes() > Varint.MAX_BYTES) {
                fail(ctx, new CircuitProtocolException("bad relay message length prefix"));
            }
            return;
        }
        if (len > maxSize) {
            fail(ctx, new CircuitProtocolException("relay message of " + len + " bytes exceeds " + maxSize));
            return;
        }
        if (acc.readableBytes() < len) {
            acc.readerIndex(start);
            return;
        }
        byte[] body = ByteBufUtil.getBytes(acc, acc.readerIndex(), (int) len);
        acc.skipBytes((int) len);
        done = true;
        timer.cancel(false);
        ByteBuf rest = acc.readableBytes() > 0 ? acc.retainedSlice() : null;
        try {
            listener.onFrame(ctx, body);
        } catch (Exception e) {
            if (rest != null) {
                rest.release();
            }
            listener.onFailure(e);
            ctx.close();
            return;
        }
        ctx.pipeline().remove(this);
        if (rest != null) {
            ctx.fireChannelRead(rest);
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && !done) {
            fail(ctx, new IOException("stream ended before a complete relay message"));
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!done) {
            done = true;
            listener.onFailure(new IOException("stream closed before a complete relay message"));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause);
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        if (!done) {
            done = true;
            listener.onFailure(cause);
        }
        ctx.close();
    }
}
