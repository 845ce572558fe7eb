package io.layerswarm.nat.relay;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/**
 * Closes a relayed connection's stream when the relay half-closes it: a circuit is one full-duplex
 * byte pipe, so the end of input means the connection is over (over TCP the muxer sees the socket
 * close instead).
 */
final class CircuitEndHandler extends ChannelInboundHandlerAdapter {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            ctx.close();
        }
        ctx.fireUserEventTriggered(evt);
    }
}
