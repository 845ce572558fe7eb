package io.layerswarm.k8s.extender;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Routes one aggregated request to a verb and writes its JSON answer; bad requests get 400 with a reason. */
final class ExtenderHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(ExtenderHttpHandler.class);
    private final String prefix;
    private final ExtenderService service;
    private final ExtenderJson json;
    private final Executor verbs;

    ExtenderHttpHandler(String prefix, ExtenderService service, ExtenderJson json, Executor verbs) {
        this.prefix = prefix;
        this.service = service;
        this.json = json;
        this.verbs = verbs;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (req.decoderResult().isFailure()) {
            text(ctx, HttpResponseStatus.BAD_REQUEST, "malformed HTTP request: " + req.decoderResult().cause(), false);
            return;
        }
        String path = req.uri();
        int q = path.indexOf('?');
        if (q >= 0) {
            path = path.substring(0, q);
        }
        if (path.equals("/healthz")) {
            text(ctx, HttpResponseStatus.OK, "ok", keepAlive);
            return;
        }
        String verb = path.startsWith(prefix + "/") ? path.substring(prefix.length() + 1) : null;
        if (verb == null || !(verb.equals("filter") || verb.equals("prioritize") || verb.equals("bind")
                || verb.equals("started"))) {
            text(ctx, HttpResponseStatus.NOT_FOUND, "no extender verb at " + path + " (expected " + prefix
                    + "/filter, /prioritize, /bind or /started)", keepAlive);
            return;
        }
        if (!HttpMethod.POST.equals(req.method())) {
            text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, verb + " takes POST, got " + req.method(), keepAlive);
            return;
        }
        byte[] body = ByteBufUtil.getBytes(req.content());
        try {
            verbs.execute(() -> answer(ctx, verb, body, keepAlive));
        } catch (RejectedExecutionException e) {
            text(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "extender is shutting down", false);
        }
    }

    private void answer(ChannelHandlerContext ctx, String verb, byte[] body, boolean keepAlive) {
        long start = System.nanoTime();
        try {
            byte[] out = respond(verb, body);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(out));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            write(ctx, r, keepAlive);
            LOG.debug("event=extender_call verb={} micros={}", verb, (System.nanoTime() - start) / 1000);
        } catch (ExtenderRequestException e) {
            LOG.info("event=extender_bad_request verb={} reason=\"{}\"", verb, e.getMessage());
            text(ctx, HttpResponseStatus.BAD_REQUEST, e.getMessage(), keepAlive);
        } catch (RuntimeException e) {
            LOG.warn("event=extender_failed verb={} reason=\"{}\"", verb, e.toString());
            text(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, verb + " failed: " + e, keepAlive);
        }
    }

    /** A verb's JSON answer to a request body. */
    byte[] respond(String verb, byte[] body) {
        Object result = switch (verb) {
            case "filter" -> service.filter(json.read(body, ExtenderArgs.class));
            case "prioritize" -> service.prioritize(json.read(body, ExtenderArgs.class));
            case "started" -> service.started(json.read(body, ExtenderBindingArgs.class));
            default -> service.bind(json.read(body, ExtenderBindingArgs.class));
        };
        return json.write(result);
    }

    private static void text(ChannelHandlerContext ctx, HttpResponseStatus status, String message, boolean keepAlive) {
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        write(ctx, r, keepAlive);
    }

    private static void write(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        if (keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, "keep-alive");
            ctx.writeAndFlush(r);
        } else {
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("event=extender_connection_error reason=\"{}\"", cause.toString());
        ctx.close();
    }
}
