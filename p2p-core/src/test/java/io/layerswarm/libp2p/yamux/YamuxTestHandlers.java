package io.layerswarm.libp2p.yamux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;

/** Stream handlers used by the Yamux tests. */
final class YamuxTestHandlers {
    private YamuxTestHandlers() {
    }

    /** Inbound streams are reset immediately. */
    static final ChannelHandler REJECT = new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
            ((YamuxStreamChannel) ch).reset();
        }
    };

    /** Echoes data; half-closes after the peer's FIN. */
    static final ChannelHandler ECHO = new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ctx.write(msg);
                }

                @Override
                public void channelReadComplete(ChannelHandlerContext ctx) {
                    ctx.flush();
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    if (evt instanceof ChannelInputShutdownEvent) {
                        ((YamuxStreamChannel) ctx.channel()).shutdownOutput();
                    }
                }
            });
        }
    };

    /** Hashes everything received, answers with the hex sha256 after the peer's FIN, then FIN. */
    static final ChannelHandler SHA256 = new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) throws Exception {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ByteBuf b = (ByteBuf) msg;
                    md.update(b.nioBuffer());
                    b.release();
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    if (evt instanceof ChannelInputShutdownEvent) {
                        String hex = HexFormat.of().formatHex(md.digest());
                        ctx.writeAndFlush(Unpooled.copiedBuffer(hex, StandardCharsets.US_ASCII));
                        ((YamuxStreamChannel) ctx.channel()).shutdownOutput();
                    }
                }
            });
        }
    };

    /** Collects a stream's bytes until the peer's FIN; fails on exceptions (e.g. reset). */
    static final class Collector extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CompletableFuture<byte[]> done = new CompletableFuture<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            b.release();
            bytes.writeBytes(a);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                done.complete(bytes.toByteArray());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.completeExceptionally(new IllegalStateException("closed before FIN"));
        }
    }
}
