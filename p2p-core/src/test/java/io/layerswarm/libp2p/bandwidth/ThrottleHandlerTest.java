package io.layerswarm.libp2p.bandwidth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Drives the handler on an embedded channel whose clock and the limiters' clock move together. */
class ThrottleHandlerTest {
    private final AtomicLong now = new AtomicLong(5_000_000_000L);

    private EmbeddedChannel channel(BandwidthLimiter up, BandwidthLimiter down, ChannelOutboundHandlerAdapter... before) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        for (ChannelOutboundHandlerAdapter h : before) {
            ch.pipeline().addLast(h);
        }
        ch.pipeline().addFirst(new ThrottleHandler(up, down, now::get));
        return ch;
    }

    private void advance(EmbeddedChannel ch, long millis) {
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
        ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
    }

    private static ByteBuf bytes(int n, int fill) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) fill);
        return Unpooled.wrappedBuffer(b);
    }

    @Test
    void writesOverTheRateAreHeldBackInOrderAndReleasedOnTime() {
        // 100 kB/s, 10 kB burst
        BandwidthLimiter up = BandwidthLimiter.of(100_000, 10_000, now::get);
        EmbeddedChannel ch = channel(up, null);
        ch.writeAndFlush(bytes(10_000, 1)); // the burst
        ChannelFuture second = ch.writeAndFlush(bytes(10_000, 2)); // 100 ms of debt
        ChannelFuture third = ch.writeAndFlush(bytes(10, 3)); // behind it, though small
        ByteBuf first = ch.readOutbound();
        assertEquals(1, first.getByte(0));
        first.release();
        assertNull(ch.readOutbound(), "the second write waits for its tokens");
        assertFalse(second.isDone());

        advance(ch, 50);
        assertNull(ch.readOutbound(), "still 50 ms early");
        advance(ch, 51);
        ByteBuf b2 = ch.readOutbound();
        ByteBuf b3 = ch.readOutbound();
        assertEquals(2, b2.getByte(0));
        assertEquals(3, b3.getByte(0), "order kept");
        b2.release();
        b3.release();
        assertTrue(second.isSuccess() && third.isSuccess());
        ch.finishAndReleaseAll();
    }

    @Test
    void aLongQueueMakesTheChannelUnwritableUntilItDrains() {
        // 200 kB/s: high water is max(32 KiB, 10 kB) = 32 KiB
        BandwidthLimiter up = BandwidthLimiter.of(200_000, 1_000, now::get);
        EmbeddedChannel ch = channel(up, null);
        ch.writeAndFlush(bytes(1_000, 0));
        for (int i = 0; i < 5; i++) {
            ch.writeAndFlush(bytes(10_000, i));
        }
        assertFalse(ch.isWritable(), "50 kB queued is over the high-water mark");
        advance(ch, 300); // 250 ms drains the 50 kB
        assertTrue(ch.isWritable());
        ch.finishAndReleaseAll();
    }

    @Test
    void readsOverTheRatePauseReadingUntilPaidFor() {
        BandwidthLimiter down = BandwidthLimiter.of(100_000, 10_000, now::get);
        AtomicInteger reads = new AtomicInteger();
        EmbeddedChannel ch = channel(null, down, new ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) {
                reads.incrementAndGet();
                ctx.read();
            }
        });
        assertTrue(ch.config().isAutoRead());
        ch.writeInbound(bytes(30_000, 7)); // 200 ms over the rate
        ByteBuf in = ch.readInbound();
        assertEquals(30_000, in.readableBytes(), "data already read is passed on, not held");
        in.release();
        assertFalse(ch.config().isAutoRead(), "reading paused");
        ch.read(); // an explicit read request is held too
        advance(ch, 199);
        assertFalse(ch.config().isAutoRead(), "still paused after 199 ms");
        advance(ch, 2);
        assertTrue(ch.config().isAutoRead(), "reading resumes once the 200 ms are paid for");

        // someone else's pause is left alone
        ch.writeInbound(bytes(30_000, 8));
        ReferenceCountUtil.release(ch.readInbound());
        ch.config().setAutoRead(true); // e.g. a writability change: the read it asks for is held
        assertTrue(ch.config().isAutoRead());
        ch.config().setAutoRead(false);
        advance(ch, 400);
        assertFalse(ch.config().isAutoRead(), "a pause the handler did not make is not lifted by it");
        ch.finishAndReleaseAll();
    }

    @Test
    void closingDiscardsQueuedWritesAndFailsTheirPromises() {
        BandwidthLimiter up = BandwidthLimiter.of(1_000, 1_000, now::get);
        EmbeddedChannel ch = channel(up, null);
        ch.writeAndFlush(bytes(1_000, 0));
        ByteBuf held = bytes(5_000, 1);
        ChannelFuture f = ch.writeAndFlush(held);
        ch.close();
        assertTrue(f.isDone() && !f.isSuccess());
        assertEquals(0, held.refCnt(), "the held buffer is released");
        ch.finishAndReleaseAll();
    }

    @Test
    void withoutLimitsEverythingPassesStraightThrough() {
        EmbeddedChannel ch = channel(null, null);
        ch.writeAndFlush(bytes(1 << 20, 4));
        ByteBuf out = ch.readOutbound();
        assertEquals(1 << 20, out.readableBytes());
        out.release();
        ch.finishAndReleaseAll();
    }
}
