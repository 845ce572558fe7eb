package io.layerswarm.k8s.extender;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * Aggregates requests up to a byte limit and answers a larger one with 400 and a message, then skips the rest of the body:
 * the extender protocol treats any non-200 as an error, and a plain-text reason helps whoever reads the
 * scheduler's log.
 */
final class BadRequestOnOversizeAggregator extends HttpObjectAggregator {
    private final int maxBytes;

    BadRequestOnOversizeAggregator(int maxBytes) {
        super(maxBytes);
        this.maxBytes = maxBytes;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        ReferenceCountUtil.release(oversized);
        byte[] body = ("request body exceeds " + maxBytes + " bytes\n").getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST,
                Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        if (oversized instanceof FullHttpMessage || !HttpUtil.isKeepAlive(oversized)) {
            r.headers().set(HttpHeaderNames.CONNECTION, "close");
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        } else {
            // The aggregator drops the rest of this body; closing now would reset the connection under a
            // client still sending, and it would never read the reason.
            ctx.writeAndFlush(r);
        }
    }
}
