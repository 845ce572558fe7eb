package io.layerswarm.metrics;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;

/** Answers 400 (and closes) for a request the HTTP codec could not decode; passes good ones on. */
final class MalformedRequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    MalformedRequestHandler() {
        super(false);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (req.decoderResult().isSuccess()) {
            ctx.fireChannelRead(req);
            return;
        }
        try {
            HttpReplies.send(ctx, req, HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8",
                    "malformed request\n".getBytes(StandardCharsets.UTF_8));
        } finally {
            req.release();
        }
    }
}
