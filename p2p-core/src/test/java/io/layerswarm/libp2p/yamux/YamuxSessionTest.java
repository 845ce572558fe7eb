package io.layerswarm.libp2p.yamux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Await;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class YamuxSessionTest {
    static final Duration AWAIT = Duration.ofSeconds(30);


    /** Writes {@code total} pseudo-random bytes as fast as writability allows, then FIN. */
    static final class BulkSender extends ChannelInboundHandlerAdapter {
        private final long total;
        private final Random rnd;
        private final MessageDigest md;
        private long sent;
        final CompletableFuture<String> sentHash = new CompletableFuture<>();

        BulkSender(long total, long seed) throws Exception {
            this.total = total;
            this.rnd = new Random(seed);
            this.md = MessageDigest.getInstance("SHA-256");
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            if (ctx.channel().isActive()) {
                ctx.executor().execute(() -> pump(ctx));
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            pump(ctx);
            ctx.fireChannelWritabilityChanged();
        }

        private void pump(ChannelHandlerContext ctx) {
            while (sent < total && ctx.channel().isWritable()) {
                int n = (int) Math.min(64 * 1024, total - sent);
                byte[] chunk = new byte[n];
                rnd.nextBytes(chunk);
                md.update(chunk);
                sent += n;
                ctx.write(Unpooled.wrappedBuffer(chunk));
            }
            ctx.flush();
            if (sent == total && !sentHash.isDone()) {
                sentHash.complete(HexFormat.of().formatHex(md.digest()));
                ((YamuxStreamChannel) ctx.channel()).shutdownOutput();
            }
        }
    }

    private static YamuxStreamChannel open(YamuxSession s, ChannelHandler... handlers) throws Exception {
        return s.openStream(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(handlers);
            }
        }).get(5, TimeUnit.SECONDS);
    }

    @Test
    void echoesAndHalfClosesThenStreamIsForgotten() throws Exception {
        try (YamuxTcpPair pair = YamuxTcpPair.withServer(YamuxTestHandlers.ECHO)) {
            YamuxTestHandlers.Collector c = new YamuxTestHandlers.Collector();
            YamuxStreamChannel s = open(pair.client, c);
            assertEquals(1, s.streamId() % 2, "dialer streams are odd");
            s.writeAndFlush(Unpooled.copiedBuffer("hello yamux", StandardCharsets.UTF_8));
            s.shutdownOutput();
            assertEquals("hello yamux", new String(c.done.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8));
            assertTrue(s.closeFuture().await(5, TimeUnit.SECONDS), "both sides finished: closes itself");
            waitFor(() -> pair.client.streamCount() == 0 && pair.serverSession.streamCount() == 0);
        }
    }

    @Test
    void listenerOpensEvenStreams() throws Exception {
        CompletableFuture<YamuxStreamChannel> got = new CompletableFuture<>();
        ChannelHandler clientInbound = new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                got.complete((YamuxStreamChannel) ch);
            }
        };
        try (YamuxTcpPair pair = new YamuxTcpPair(YamuxConfig.defaults(), YamuxTestHandlers.REJECT,
                YamuxConfig.defaults(), clientInbound)) {
            YamuxStreamChannel s = open(pair.serverSession);
            assertEquals(0, s.streamId() % 2);
            assertEquals(s.streamId(), got.get(5, TimeUnit.SECONDS).streamId());
        }
    }

    @Test
    void transfers64MiBOnOneStreamAndGrowsTheWindow() throws Exception {
        AtomicReference<YamuxStreamChannel> serverStream = new AtomicReference<>();
        ChannelHandler inbound = new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                serverStream.set((YamuxStreamChannel) ch);
                ch.pipeline().addLast(YamuxTestHandlers.SHA256);
            }
        };
        try (YamuxTcpPair pair = YamuxTcpPair.withServer(inbound)) {
            pair.client.ping().get(5, TimeUnit.SECONDS);
            BulkSender sender = new BulkSender(64L << 20, 1);
            YamuxTestHandlers.Collector c = new YamuxTestHandlers.Collector();
            open(pair.client, sender, c);
            String got = new String(c.done.get(60, TimeUnit.SECONDS), StandardCharsets.US_ASCII);
            assertEquals(sender.sentHash.get(), got);
            assertTrue(serverStream.get().receiveWindow() > YamuxConfig.SPEC_INITIAL_WINDOW,
                    "window should have grown, is " + serverStream.get().receiveWindow());
        }
    }

    @Test
    void transfersOnManyConcurrentStreams() throws Exception {
        try (YamuxTcpPair pair = YamuxTcpPair.withServer(YamuxTestHandlers.SHA256)) {
            List<BulkSender> senders = new ArrayList<>();
            List<YamuxTestHandlers.Collector> collectors = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                BulkSender b = new BulkSender(512 * 1024 + i, i);
                YamuxTestHandlers.Collector c = new YamuxTestHandlers.Collector();
                senders.add(b);
                collectors.add(c);
                open(pair.client, b, c);
            }
            for (int i = 0; i < 64; i++) {
                String got = new String(collectors.get(i).done.get(60, TimeUnit.SECONDS), StandardCharsets.US_ASCII);
                assertEquals(senders.get(i).sentHash.get(), got, "stream " + i);
            }
        }
    }

    @Test
    void resetReachesThePeer() throws Exception {
        try (YamuxTcpPair pair = YamuxTcpPair.withServer(YamuxTestHandlers.REJECT)) {
            YamuxTestHandlers.Collector c = new YamuxTestHandlers.Collector();
            YamuxStreamChannel s = open(pair.client, c);
            s.writeAndFlush(Unpooled.copiedBuffer("x", StandardCharsets.UTF_8));
            ExecutionException e = assertThrows(ExecutionException.class, () -> c.done.get(5, TimeUnit.SECONDS));
            assertInstanceOf(YamuxStreamResetException.class, e.getCause());
            assertTrue(s.closeFuture().await(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void streamsBeyondTheLimitAreRefused() throws Exception {
        ChannelHandler hold = new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
            }
        };
        try (YamuxTcpPair pair = new YamuxTcpPair(YamuxConfig.defaults().withMaxStreams(2), hold,
                YamuxConfig.defaults(), YamuxTestHandlers.REJECT)) {
            List<YamuxTestHandlers.Collector> cs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                YamuxTestHandlers.Collector c = new YamuxTestHandlers.Collector();
                cs.add(c);
                open(pair.client, c).writeAndFlush(Unpooled.copiedBuffer("x", StandardCharsets.UTF_8));
            }
            ExecutionException e = assertThrows(ExecutionException.class, () -> cs.get(2).done.get(5, TimeUnit.SECONDS));
            assertInstanceOf(YamuxStreamResetException.class, e.getCause());
            assertFalse(cs.get(0).done.isDone());
            assertEquals(2, pair.serverSession.streamCount());
            // Outbound opens beyond our own limit fail locally.
            try (YamuxTcpPair p2 = new YamuxTcpPair(YamuxConfig.defaults(), hold,
                    YamuxConfig.defaults().withMaxStreams(1), YamuxTestHandlers.REJECT)) {
                open(p2.client);
                assertThrows(ExecutionException.class, () -> p2.client.openStream(null).get(5, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void readerThatStopsReadingStopsTheSenderAfterOneWindow() throws Exception {
        AtomicReference<YamuxStreamChannel> serverStream = new AtomicReference<>();
        YamuxTestHandlers.Collector sink = new YamuxTestHandlers.Collector();
        ChannelHandler paused = new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.config().setAutoRead(false);
                ch.pipeline().addLast(sink);
                serverStream.set((YamuxStreamChannel) ch);
            }
        };
        try (YamuxTcpPair pair = YamuxTcpPair.withServer(paused)) {
            BulkSender sender = new BulkSender(8L << 20, 7);
            YamuxStreamChannel s = open(pair.client, sender);
            waitFor(() -> !s.isWritable());
            YamuxStreamChannel ss = Await.until(AWAIT, "the server stream is open", serverStream::get, x -> x != null);
            // Read together on the stream's event loop: what the receiver holds and the credit it still
            // grants. Had it granted more than one window, the surplus shows in one or the other.
            long[] held = Await.until(AWAIT, "the first window has arrived",
                    () -> onLoop(ss, () -> new long[] {ss.bufferedBytes, ss.recvCredit}),
                    h -> h[0] >= YamuxConfig.SPEC_INITIAL_WINDOW);
            assertEquals(YamuxConfig.SPEC_INITIAL_WINDOW, held[0], "exactly one window buffered");
            assertEquals(0, held[1], "a receiver that reads nothing grants no further window");
            assertFalse(sender.sentHash.isDone());
            ss.config().setAutoRead(true);
            byte[] all = sink.done.get(30, TimeUnit.SECONDS);
            assertEquals(8L << 20, all.length);
            assertEquals(sender.sentHash.get(),
                    HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(all)));
        }
    }

    @Test
    void locallyClosedStreamIsResetWhenThePeerNeverFinishes() throws Exception {
        YamuxTestHandlers.Collector serverSide = new YamuxTestHandlers.Collector();
        ChannelHandler silent = new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(serverSide);
            }
        };
        YamuxConfig quick = new YamuxConfig(YamuxConfig.SPEC_INITIAL_WINDOW, 16 << 20, 64L << 20, 16, 65536,
                java.time.Duration.ofMillis(200));
        try (YamuxTcpPair pair = new YamuxTcpPair(YamuxConfig.defaults(), silent, quick, YamuxTestHandlers.REJECT)) {
            YamuxStreamChannel s = open(pair.client);
            s.writeAndFlush(Unpooled.copiedBuffer("bye", StandardCharsets.UTF_8));
            // Close and count in one event-loop task: the 200 ms close timeout cannot fire in between.
            int afterClose = onLoop(s, () -> {
                s.close();
                return pair.client.streamCount();
            });
            assertEquals(1, afterClose, "a closed stream stays until the peer finishes or the close timeout");
            // The peer got our FIN but keeps its side open; after the close timeout we reset.
            assertArrayEquals("bye".getBytes(StandardCharsets.UTF_8), serverSide.done.get(5, TimeUnit.SECONDS));
            waitFor(() -> pair.serverSession.streamCount() == 0);
            assertEquals(0, (int) onLoop(pair.client.channel(), pair.client::streamCount));
        }
    }

    @Test
    void pingMeasuresRoundTrip() throws Exception {
        try (YamuxTcpPair pair = YamuxTcpPair.withServer(YamuxTestHandlers.REJECT)) {
            long rtt = pair.client.ping().get(5, TimeUnit.SECONDS);
            assertTrue(rtt > 0);
            assertTrue(pair.client.rttNanos() > 0);
        }
    }

    @Test
    void goAwayStopsNewStreams() throws Exception {
        try (YamuxTcpPair pair = YamuxTcpPair.withServer(YamuxTestHandlers.ECHO)) {
            pair.serverSession.close();
            assertTrue(pair.clientChannel.closeFuture().await(5, TimeUnit.SECONDS));
            assertThrows(ExecutionException.class, () -> pair.client.openStream(null).get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void writesAfterFinFail() throws Exception {
        try (YamuxTcpPair pair = YamuxTcpPair.withServer(YamuxTestHandlers.SHA256)) {
            YamuxTestHandlers.Collector c = new YamuxTestHandlers.Collector();
            YamuxStreamChannel s = open(pair.client, c);
            s.shutdownOutput().sync();
            ByteBuf late = Unpooled.copiedBuffer("late", StandardCharsets.UTF_8);
            assertFalse(s.writeAndFlush(late).await().isSuccess());
            byte[] empty = MessageDigest.getInstance("SHA-256").digest(new byte[0]);
            assertArrayEquals(HexFormat.of().formatHex(empty).getBytes(StandardCharsets.US_ASCII),
                    c.done.get(5, TimeUnit.SECONDS));
        }
    }

    static void waitFor(java.util.function.BooleanSupplier cond) throws InterruptedException {
        Await.until(AWAIT, "the condition holds", cond);
    }

    /** Reads stream state on its event loop, which owns it. */
    static <T> T onLoop(Channel ch, java.util.concurrent.Callable<T> read) {
        try {
            return ch.eventLoop().submit(read).get(AWAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("reading stream state on its event loop failed", e);
        }
    }
}
