package io.layerswarm.nat.relay;

import io.layerswarm.libp2p.mux.MuxedStream;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/**
 * One direction of a relayed circuit on the relay: forwards what arrives on its stream to the partner
 * stream, at most {@code maxBytes} (0: unlimited) after which both streams are reset; pauses reading
 * while the partner cannot take more; passes a half-close on. Bytes that arrive before {@link #start}
 * are held (the relay must answer the source before the target's first bytes reach it). Every forwarded
 * byte is also added to a counter the relay shares among its circuits.
 */
final class RelayPipe extends ChannelInboundHandlerAdapter {
    private final long maxBytes;
    private final LongConsumer onLimit;
    private final LongAdder total;
    private final Queue<Object> pending = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private volatile Channel partner;
    private volatile long forwarded; // written by this stream's event loop only, read when the circuit closes
    private boolean inputShutdown;

    RelayPipe(long maxBytes, LongConsumer onLimit, LongAdder total) {
        this.maxBytes = maxBytes;
        this.onLimit = onLimit;
        this.total = total;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        Object o;
        while ((o = pending.poll()) != null) {
            ReferenceCountUtil.release(o);
        }
    }

    /** Starts forwarding to {@code to}; runs the held bytes first. Call on this stream's event loop. */
    void start(Channel to) {
        partner = to;
        Object o;
        while ((o = pending.poll()) != null) {
            forward(o);
        }
        to.flush();
        if (inputShutdown) {
            MuxedStream.of(to).shutdownOutput();
        }
        ctx.channel().config().setAutoRead(true);
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (partner == null) {
            pending.add(msg);
        } else {
            forward(msg);
        }
    }

    private void forward(Object msg) {
        ByteBuf b = (ByteBuf) msg;
        long allowed = maxBytes == 0 ? Long.MAX_VALUE : maxBytes - forwarded;
        if (b.readableBytes() > allowed) {
            b.release();
            onLimit.accept(forwarded);
            return;
        }
        forwarded += b.readableBytes();
        total.add(b.readableBytes());
        partner.write(b);
        if (!partner.isWritable()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (partner != null) {
            partner.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Channel p = partner;
        if (p != null && ctx.channel().isWritable()) {
            p.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            if (partner == null) {
                inputShutdown = true;
            } else {
                MuxedStream.of(partner).shutdownOutput();
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Channel p = partner;
        if (p != null) {
            p.close();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    /** Bytes forwarded so far in this direction. */
    long forwarded() {
        return forwarded;
    }
}
