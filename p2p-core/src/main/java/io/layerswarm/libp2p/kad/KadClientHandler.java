package io.layerswarm.libp2p.kad;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import java.io.EOFException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CompletableFuture;

/**
 * Sends one message on a fresh outbound kad stream (placed after {@link KadFrameCodec}) and, for
 * requests, completes with the single response; one-way messages (ADD_PROVIDER) complete when
 * written. The stream is closed afterwards.
 */
public final class KadClientHandler extends SimpleChannelInboundHandler<KadMessage> {

    private final KadMessage message;
    private final boolean expectResponse;
    private final CompletableFuture<KadMessage> result;

    /**
     * @param message what to send
     * @param expectResponse whether one response message is read
     * @param result completed with the response (or {@code null} for one-way), or exceptionally
     */
    public KadClientHandler(KadMessage message, boolean expectResponse, CompletableFuture<KadMessage> result) {
        this.message = message;
        this.expectResponse = expectResponse;
        this.result = result;
    }

    private boolean sent;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            send(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        send(ctx);
        ctx.fireChannelActive();
    }

    private void send(ChannelHandlerContext ctx) {
        if (sent) {
            return;
        }
        sent = true;
        ctx.writeAndFlush(message).addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(f.cause());
                ctx.close();
            } else if (!expectResponse) {
                result.complete(null);
                halfCloseThenClose(ctx);
            }
            // Requests keep the write side open until the response: some servers stop reading
            // once the requester half-closes.
        });
    }

    private static void halfCloseThenClose(ChannelHandlerContext ctx) {
        if (ctx.channel() instanceof DuplexChannel d) {
            d.shutdownOutput().addListener(x -> ctx.close());
        } else {
            ctx.close();
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, KadMessage response) {
        if (response.type() != message.type()) {
            result.completeExceptionally(new KadProtocolException("kad response type " + response.type()
                    + " does not match request " + message.type()));
        } else {
            result.complete(response);
        }
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && expectResponse && !result.isDone()) {
            result.completeExceptionally(new EOFException("kad stream ended without a response"));
            ctx.close();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        result.completeExceptionally(new ClosedChannelException());
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        result.completeExceptionally(cause);
        ctx.close();
    }
}
