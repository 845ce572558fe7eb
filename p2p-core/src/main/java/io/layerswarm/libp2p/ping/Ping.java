package io.layerswarm.libp2p.ping;

import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.mux.MuxedStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The libp2p ping protocol ({@value #PROTOCOL}): the dialer sends 32 random bytes, the listener
 * echoes them, the dialer checks them and measures the round trip; repeated on one stream.
 */
public final class Ping {
    /** Protocol id. */
    public static final String PROTOCOL = "/ipfs/ping/1.0.0";
    /** Payload size fixed by the spec. */
    public static final int SIZE = 32;

    private static final SecureRandom RANDOM = new SecureRandom();

    private Ping() {
    }

    /** Serves ping on {@code host}. */
    public static void attach(Host host) {
        host.setStreamHandler(PROTOCOL, s -> s.channel().pipeline().addLast(new Echo()));
    }

    /** One ping over a new stream. */
    public static CompletableFuture<Duration> ping(Connection c) {
        return ping(c, 1).thenApply(l -> l.get(0));
    }

    /** {@code count} pings one after the other on one stream; the round-trip times in order. */
    public static CompletableFuture<List<Duration>> ping(Connection c, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count=" + count);
        }
        CompletableFuture<List<Duration>> result = new CompletableFuture<>();
        c.newStream(List.of(PROTOCOL), s -> s.channel().pipeline().addLast(new Pinger(count, result)))
                .whenComplete((s, e) -> {
                    if (e != null) {
                        result.completeExceptionally(e);
                    } else {
                        s.channel().eventLoop().execute(() -> s.channel().pipeline().get(Pinger.class).send(s));
                    }
                });
        return result;
    }

    /** Listener side: echoes bytes back, pausing reads while the echo cannot be written. */
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
            if (!ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                MuxedStream.of(ctx.channel()).shutdownOutput();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Dialer side: sends, checks and times each ping. */
    private static final class Pinger extends ChannelInboundHandlerAdapter {
        private final int count;
        private final CompletableFuture<List<Duration>> result;
        private final List<Duration> rtts = new ArrayList<>();
        private final byte[] expected = new byte[SIZE];
        private final byte[] got = new byte[SIZE];
        private int received;
        private long sentAt;

        Pinger(int count, CompletableFuture<List<Duration>> result) {
            this.count = count;
            this.result = result;
        }

        void send(P2pStream s) {
            RANDOM.nextBytes(expected);
            received = 0;
            sentAt = System.nanoTime();
            s.channel().writeAndFlush(Unpooled.wrappedBuffer(expected.clone()));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            try {
                while (b.isReadable() && !result.isDone()) {
                    int n = Math.min(SIZE - received, b.readableBytes());
                    b.readBytes(got, received, n);
                    received += n;
                    if (received == SIZE) {
                        long rtt = System.nanoTime() - sentAt;
                        if (!Arrays.equals(expected, got)) {
                            fail(ctx, new IOException("ping payload mismatch"));
                            return;
                        }
                        rtts.add(Duration.ofNanos(rtt));
                        if (rtts.size() == count) {
                            result.complete(List.copyOf(rtts));
                            MuxedStream.of(ctx.channel()).shutdownOutput();
                            ctx.close();
                            return;
                        }
                        RANDOM.nextBytes(expected);
                        received = 0;
                        sentAt = System.nanoTime();
                        ctx.writeAndFlush(Unpooled.wrappedBuffer(expected.clone()));
                    }
                }
            } finally {
                b.release();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                fail(ctx, new IOException("peer closed the ping stream after " + rtts.size() + " pings"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx, cause);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new IOException("ping stream closed"));
        }

        private void fail(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
        }
    }
}
