package io.layerswarm.libp2p.yamux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Window auto-tuning against a simulated 50 ms round trip (the clock is driven by the test): fast
 * consumption grows the window up to the maximum, slow consumption does not.
 */
class YamuxWindowTuningTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private EmbeddedChannel ch;

    private void start(YamuxConfig config) {
        ChannelInitializer<Channel> sink = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel c) {
                c.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ((ByteBuf) msg).release();
                    }
                });
            }
        };
        ch = new EmbeddedChannel(new YamuxSession(false, config, sink, now::get));
        ch.runPendingTasks();
        YamuxFrame ping = outbound().get(0);
        assertEquals(YamuxFrame.TYPE_PING, ping.type());
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(50));
        in(YamuxFrame.ping(YamuxFrame.FLAG_ACK, ping.length()));
        in(YamuxFrame.windowUpdate(1, YamuxFrame.FLAG_SYN, 0));
        outbound(); // the ACK
    }

    private void in(YamuxFrame f) {
        ByteBuf b = Unpooled.buffer();
        YamuxFrameEncoder.writeHeader(f, b);
        if (f.data() != null) {
            b.writeBytes(f.data());
            f.data().release();
        }
        ch.writeInbound(b);
        ch.runPendingTasks();
    }

    private List<YamuxFrame> outbound() {
        EmbeddedChannel dec = new EmbeddedChannel(new YamuxFrameDecoder(1 << 24));
        Object o;
        while ((o = ch.readOutbound()) != null) {
            dec.writeInbound(o);
        }
        List<YamuxFrame> frames = new ArrayList<>();
        while ((o = dec.readInbound()) != null) {
            frames.add((YamuxFrame) o);
        }
        return frames;
    }

    private long sendAndGetUpdate(int bytes) {
        in(YamuxFrame.data(1, 0, Unpooled.wrappedBuffer(new byte[bytes])));
        List<YamuxFrame> out = outbound();
        assertEquals(1, out.size(), "one window update expected: " + out);
        assertEquals(YamuxFrame.TYPE_WINDOW_UPDATE, out.get(0).type());
        return out.get(0).length();
    }

    @Test
    void fastConsumptionGrowsTheWindowToTheMaximum() {
        start(YamuxConfig.defaults());
        long window = YamuxConfig.SPEC_INITIAL_WINDOW;
        for (int i = 0; i < 12; i++) {
            // The sender uses the whole window each round trip: window-bound.
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(50));
            long delta = sendAndGetUpdate((int) window);
            window = delta;
        }
        assertEquals(16L << 20, window, "window after growth");
        // 100 Mbit/s x 50 ms = 625 KB in flight; a 16 MiB window is far from binding.
        assertTrue(window > 100_000_000L / 8 * 50 / 1000);
    }

    @Test
    void slowConsumptionKeepsTheWindow() {
        start(YamuxConfig.defaults());
        for (int i = 0; i < 5; i++) {
            now.addAndGet(TimeUnit.SECONDS.toNanos(2));
            assertEquals(YamuxConfig.SPEC_INITIAL_WINDOW, sendAndGetUpdate(YamuxConfig.SPEC_INITIAL_WINDOW));
        }
    }

    @Test
    void sessionBudgetCapsGrowth() {
        YamuxConfig cfg = new YamuxConfig(YamuxConfig.SPEC_INITIAL_WINDOW, 16 << 20, 1 << 20, 16, 65536,
                java.time.Duration.ofSeconds(1));
        start(cfg);
        long window = YamuxConfig.SPEC_INITIAL_WINDOW;
        for (int i = 0; i < 6; i++) {
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(10));
            window = sendAndGetUpdate((int) window);
        }
        assertEquals(1 << 20, window);
    }

    @Test
    void dataBeyondTheGrantedWindowIsAProtocolError() {
        start(YamuxConfig.defaults());
        in(YamuxFrame.data(1, 0, Unpooled.wrappedBuffer(new byte[YamuxConfig.SPEC_INITIAL_WINDOW + 1])));
        List<YamuxFrame> out = outbound();
        YamuxFrame last = out.get(out.size() - 1);
        assertNotNull(last);
        assertEquals(YamuxFrame.TYPE_GO_AWAY, last.type());
        assertEquals(YamuxFrame.GO_AWAY_PROTOCOL_ERROR, last.length());
        assertFalse(ch.isOpen());
    }
}
