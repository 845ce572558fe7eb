package io.layerswarm.libp2p.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerswarm.libp2p.mux.MuxedStream;
import io.layerswarm.testing.Await;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Data queued for a blocking reader are pooled buffers: a reader that goes away (its stream closed or
 * reset, its input closed) must hand them back, and data arriving after that are released at once.
 */
class BlockingStreamAdapterTest {
    private static ByteBuf pooled(int n) {
        return PooledByteBufAllocator.DEFAULT.directBuffer(n).writeZero(n);
    }

    @Test
    void discardingTheReaderReleasesWhatItLeftUnreadAndWhatArrivesLater() {
        BlockingStreamAdapter adapter = new BlockingStreamAdapter();
        EmbeddedChannel ch = new EmbeddedChannel(adapter);
        ByteBuf first = pooled(100);
        ByteBuf second = pooled(200);
        ch.writeInbound(first, second);
        assertEquals(1, first.refCnt(), "queued for the reader, not yet released");
        assertEquals(1, second.refCnt());

        adapter.discardUnread();
        assertEquals(0, first.refCnt());
        assertEquals(0, second.refCnt());

        ByteBuf late = pooled(50);
        ch.writeInbound(late);
        assertEquals(0, late.refCnt(), "data for a reader that is gone are released on arrival");
        ch.finishAndReleaseAll();
    }

    @Test
    void closingTheInputStreamReleasesWhatIsQueued() throws Exception {
        BlockingStreamAdapter adapter = new BlockingStreamAdapter();
        EmbeddedChannel ch = new EmbeddedChannel(adapter);
        ByteBuf queued = pooled(64);
        ch.writeInbound(queued);
        adapter.inputStream().close();
        assertEquals(0, queued.refCnt());
        ch.finishAndReleaseAll();
    }

    /**
     * A stream whose {@link MuxedStream#writeAhead()} is N (QUIC's) lets the blocking writer have N bytes of writes
     * unfinished, whatever the channel's writability, and no more: the writer waits until writes complete.
     */
    @Test
    void aWriterRunsAsFarAheadOfUnfinishedWritesAsTheStreamAllowsAndNoFurther() throws Exception {
        int chunk = 64 * 1024; // the adapter's write size
        DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
        try {
            LocalAddress addr = new LocalAddress("nat4-write-ahead-" + UUID.randomUUID());
            new ServerBootstrap().group(group).channel(LocalServerChannel.class)
                    .childHandler(new ChannelInboundHandlerAdapter()).bind(addr).sync();
            List<ChannelPromise> held = new CopyOnWriteArrayList<>();
            AtomicLong written = new AtomicLong();
            BlockingStreamAdapter adapter = new BlockingStreamAdapter();
            Channel ch = new Bootstrap().group(group).channel(LocalChannel.class).handler(new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel c) {
                    c.attr(MuxedStream.KEY).set(new WriteAhead(2 * chunk));
                    // the transport: takes the bytes, completes each write only when the test says so
                    c.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
                        @Override
                        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                            written.addAndGet(((ByteBuf) msg).readableBytes());
                            ((ByteBuf) msg).release();
                            held.add(promise);
                        }
                    }, adapter);
                }
            }).connect(addr).sync().channel();
            Thread writer = new Thread(() -> {
                try {
                    adapter.outputStream().write(new byte[8 * chunk]);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            writer.start();
            Duration wait = Duration.ofSeconds(30);
            Await.until(wait, "the writer waits with two chunks unfinished",
                    () -> held.size() == 2 && writer.getState() == Thread.State.TIMED_WAITING);
            assertEquals(2L * chunk, written.get(), "no third chunk while two are unfinished");
            ch.eventLoop().submit(() -> held.get(0).setSuccess()).sync();
            Await.until(wait, "one more chunk once one finished", () -> held.size() == 3);
            Await.until(wait, "the writer waits again", () -> writer.getState() == Thread.State.TIMED_WAITING);
            assertEquals(3L * chunk, written.get());
            for (int i = 1; i < 8; i++) {
                int c = i;
                Await.until(wait, "chunk " + (c + 1) + " handed over", () -> held.size() > c);
                ch.eventLoop().submit(() -> held.get(c).setSuccess()).sync();
            }
            writer.join(wait.toMillis());
            assertEquals(8L * chunk, written.get());
            ch.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** The muxed-stream side of a test channel: only its write-ahead matters here. */
    private record WriteAhead(int bytes) implements MuxedStream {
        @Override
        public int writeAhead() {
            return bytes;
        }

        @Override
        public boolean isOutbound() {
            return true;
        }

        @Override
        public ChannelFuture shutdownOutput() {
            throw new UnsupportedOperationException();
        }

        @Override
        public ChannelFuture reset() {
            throw new UnsupportedOperationException();
        }
    }
}
