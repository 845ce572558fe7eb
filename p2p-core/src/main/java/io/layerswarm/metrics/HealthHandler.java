package io.layerswarm.metrics;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/** Answers {@code /healthz}: 200 {@code ok} while the node serves, 503 otherwise; passes other paths on. */
final class HealthHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final BooleanSupplier serving;

    HealthHandler(BooleanSupplier serving) {
        super(false);
        this.serving = serving;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (!HttpReplies.path(req).equals("/healthz")) {
            ctx.fireChannelRead(req);
            return;
        }
        try {
            if (!HttpReplies.isRead(req)) {
                HttpReplies.send(ctx, req, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                        "GET or HEAD\n".getBytes(StandardCharsets.UTF_8));
            } else if (serving.getAsBoolean()) {
                HttpReplies.send(ctx, req, HttpResponseStatus.OK, "text/plain; charset=utf-8",
                        "ok\n".getBytes(StandardCharsets.UTF_8));
            } else {
                HttpReplies.send(ctx, req, HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
                        "not serving\n".getBytes(StandardCharsets.UTF_8));
            }
        } finally {
            req.release();
        }
    }
}
