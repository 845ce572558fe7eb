package io.layerswarm.libp2p.bandwidth;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Holds one connection's raw bytes to a node-wide rate: the first handler of a connection's pipeline,
 * it charges every byte written to the upload {@link BandwidthLimiter} and every byte read to the
 * download one, both shared by all connections. It never blocks the event loop: an overdrawn write is
 * queued and released by a scheduled task, and an overdrawn read pauses reading (auto-read off, later
 * read requests held) until the bytes are paid for, so the kernel's receive window throttles the sender. While more than about 50 ms of the rate is queued
 * the channel reports itself unwritable, so Yamux and the streams above stop producing.
 */
public final class ThrottleHandler extends ChannelDuplexHandler {
    /** Waits shorter than this are not worth a timer; the bucket's debt still counts them. */
    static final long PASS_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** The channel writability bit this handler owns (Netty reserves 1..31 for handlers). */
    static final int WRITABILITY_INDEX = 9;

    private final LongSupplier clock;
    private final BandwidthLimiter upload;
    private final BandwidthLimiter download;
    private final long highWater;
    private final long lowWater;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private long queuedBytes;
    private ScheduledFuture<?> writeTimer;
    private long readResumeAt;
    private boolean readTimerSet;
    private boolean readRequested;
    private boolean pausedAutoRead;
    private ScheduledFuture<?> readTimer;

    private record Pending(Object msg, ChannelPromise promise, long bytes, long releaseAt) {
    }

    /**
     * @param upload limiter for bytes sent, or {@code null} for no limit
     * @param download limiter for bytes received, or {@code null} for no limit
     */
    public ThrottleHandler(BandwidthLimiter upload, BandwidthLimiter download) {
        this(upload, download, System::nanoTime);
    }

    /** With the clock the limiters use (tests drive both with a fake one). */
    ThrottleHandler(BandwidthLimiter upload, BandwidthLimiter download, LongSupplier clock) {
        this.clock = clock;
        this.upload = upload;
        this.download = download;
        this.highWater = upload == null ? Long.MAX_VALUE : Math.max(32 * 1024, upload.bytesPerSecond() / 20);
        this.lowWater = highWater / 2;
    }

    // ---- upload --------------------------------------------------------------------------------

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (upload == null) {
            ctx.write(msg, promise);
            return;
        }
        long n = sizeOf(msg);
        long wait = n == 0 ? 0 : upload.reserve(n);
        if (queue.isEmpty() && wait <= PASS_NANOS) {
            ctx.write(msg, promise);
            return;
        }
        // behind earlier queued writes even when this one is free: bytes must leave in order
        queue.add(new Pending(msg, promise, n, clock.getAsLong() + wait));
        queuedBytes += n;
        if (queuedBytes > highWater) {
            setWritable(ctx, false);
        }
        scheduleRelease(ctx);
    }

    private void scheduleRelease(ChannelHandlerContext ctx) {
        if (writeTimer != null || queue.isEmpty()) {
            return;
        }
        long delay = Math.max(0, queue.peek().releaseAt() - clock.getAsLong());
        writeTimer = ctx.executor().schedule(() -> {
            writeTimer = null;
            release(ctx);
        }, delay, TimeUnit.NANOSECONDS);
    }

    private void release(ChannelHandlerContext ctx) {
        long now = clock.getAsLong();
        boolean wrote = false;
        while (!queue.isEmpty() && queue.peek().releaseAt() - now <= PASS_NANOS) {
            Pending p = queue.poll();
            queuedBytes -= p.bytes();
            ctx.write(p.msg(), p.promise());
            wrote = true;
        }
        if (wrote) {
            // the writer's own flush passed by while these were queued
            ctx.flush();
        }
        if (queuedBytes <= lowWater) {
            setWritable(ctx, true);
        }
        scheduleRelease(ctx);
    }

    private static void setWritable(ChannelHandlerContext ctx, boolean writable) {
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        if (out != null) {
            out.setUserDefinedWritability(WRITABILITY_INDEX, writable);
        }
    }

    private static long sizeOf(Object msg) {
        if (msg instanceof ByteBuf b) {
            return b.readableBytes();
        }
        if (msg instanceof ByteBufHolder h) {
            return h.content().readableBytes();
        }
        return 0;
    }

    // ---- download ------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (download != null) {
            long n = sizeOf(msg);
            long wait = n == 0 ? 0 : download.reserve(n);
            if (wait > PASS_NANOS) {
                readResumeAt = Math.max(readResumeAt, clock.getAsLong() + wait);
                readTimerSet = true;
                // with auto-read on, the transport keeps reading without asking the pipeline: switch it
                // off (that also drops the socket's read interest) until the bytes are paid for
                if (ctx.channel().config().isAutoRead()) {
                    ctx.channel().config().setAutoRead(false);
                    pausedAutoRead = true;
                }
                scheduleResume(ctx);
            }
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * Read requests while paused wait for the resume. Auto-read switched back on by someone else (it
     * asks for a read) takes over the pause: from then on auto-read is theirs to switch.
     */
    @Override
    public void read(ChannelHandlerContext ctx) {
        if (!readTimerSet) {
            ctx.read();
            return;
        }
        if (ctx.channel().config().isAutoRead()) {
            pausedAutoRead = false;
        } else {
            readRequested = true;
        }
        scheduleResume(ctx);
    }

    private void scheduleResume(ChannelHandlerContext ctx) {
        if (readTimer != null) {
            return;
        }
        long delay = Math.max(0, readResumeAt - clock.getAsLong());
        readTimer = ctx.executor().schedule(() -> {
            readTimer = null;
            readTimerSet = false;
            boolean requested = readRequested;
            readRequested = false;
            if (pausedAutoRead) {
                pausedAutoRead = false;
                if (!ctx.channel().config().isAutoRead()) {
                    ctx.channel().config().setAutoRead(true); // asks for a read itself
                    return;
                }
            }
            if (requested || ctx.channel().config().isAutoRead()) {
                ctx.read();
            }
        }, delay, TimeUnit.NANOSECONDS);
    }

    // ---- teardown ------------------------------------------------------------------------------

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        discard();
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        discard();
    }

    private void discard() {
        if (writeTimer != null) {
            writeTimer.cancel(false);
            writeTimer = null;
        }
        if (readTimer != null) {
            readTimer.cancel(false);
            readTimer = null;
        }
        Pending p;
        while ((p = queue.poll()) != null) {
            ReferenceCountUtil.release(p.msg());
            p.promise().tryFailure(new ClosedChannelException());
        }
        queuedBytes = 0;
    }
}
