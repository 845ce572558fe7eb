package io.layerswarm.mirror;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayDeque;

/**
 * Times each request from its arrival to its response headers and reports it to a
 * {@link MirrorListener}. Sits between the HTTP codec and the aggregator; requests on a keep-alive
 * connection are answered in order, so a queue pairs them with their responses.
 */
final class RequestTimer extends ChannelDuplexHandler {
    private final MirrorListener listener;
    private final ArrayDeque<Started> started = new ArrayDeque<>();

    private record Started(String route, String method, long nanos) {
    }

    RequestTimer(MirrorListener listener) {
        this.listener = listener;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest r) {
            started.add(new Started(routeOf(r.uri()), r.method().name(), System.nanoTime()));
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r) {
            Started s = started.poll();
            if (s != null) {
                listener.requestServed(s.route(), s.method(), r.status().code(), System.nanoTime() - s.nanos());
            }
        }
        ctx.write(msg, promise);
    }

    /** A coarse route label (a fixed set, so metric label values stay bounded). */
    static String routeOf(String uri) {
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        if (path.equals("/v2/") || path.equals("/v2")) {
            return "base";
        }
        if (!path.startsWith("/v2/")) {
            return "other";
        }
        if (path.contains("/manifests/")) {
            return "manifest";
        }
        if (path.contains("/blobs/")) {
            return "blob";
        }
        return "other";
    }
}
