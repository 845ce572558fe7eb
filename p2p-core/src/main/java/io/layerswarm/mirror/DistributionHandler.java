package io.layerswarm.mirror;

import io.layerswarm.cache.store.InsufficientStorageException;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.stream.ChunkedStream;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Maps distribution API requests onto a {@link ContentProvider}; one request at a time per connection. */
final class DistributionHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(DistributionHandler.class);

    private final ContentProvider provider;
    private final Executor lookups;

    DistributionHandler(ContentProvider provider, Executor lookups) {
        this.provider = provider;
        this.lookups = lookups;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (!req.decoderResult().isSuccess()) {
            sendError(ctx, false, HttpResponseStatus.BAD_REQUEST, "UNSUPPORTED", "malformed HTTP request");
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        HttpMethod method = req.method();
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
            sendError(ctx, keepAlive, HttpResponseStatus.METHOD_NOT_ALLOWED, "UNSUPPORTED",
                    "this mirror is read-only");
            return;
        }
        Route route;
        Optional<String> ns;
        try {
            route = Route.parse(req.uri());
            ns = Route.namespace(req.uri());
        } catch (IllegalArgumentException e) {
            sendError(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "NAME_INVALID", e.getMessage());
            return;
        }
        ContentProvider provider = this.provider;
        if (ns.isPresent()) {
            Optional<ContentProvider> p = this.provider.forNamespace(ns.get());
            if (p.isEmpty()) {
                // never contact a registry the operator did not configure
                sendError(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "NAME_UNKNOWN",
                        "this mirror has no upstream " + ns.get());
                return;
            }
            provider = p.get();
        }
        ContentProvider chosen = provider;
        boolean head = HttpMethod.HEAD.equals(method);
        List<String> accept = accept(req.headers().getAll(HttpHeaderNames.ACCEPT));
        String range = req.headers().get(HttpHeaderNames.RANGE);
        Optional<String> authorization = Optional.ofNullable(req.headers().get(HttpHeaderNames.AUTHORIZATION));
        ctx.channel().config().setAutoRead(false);
        try {
            lookups.execute(() -> {
                try {
                    Access access = access(chosen, route, authorization);
                    if (!access.granted()) {
                        log.info("event=mirror_refused route={} status={} reason=\"{}\"", route, access.status(),
                                access.message());
                        FullHttpResponse r = errorResponse(HttpResponseStatus.valueOf(access.status()),
                                access.status() == 401 ? "UNAUTHORIZED" : access.status() == 404 ? "BLOB_UNKNOWN"
                                        : "UNAVAILABLE", access.message());
                        access.challenges().forEach(c -> r.headers().add(HttpHeaderNames.WWW_AUTHENTICATE, c));
                        ctx.executor().execute(() -> write(ctx, r, keepAlive));
                        return;
                    }
                    serve(ctx, chosen, route, head, keepAlive, accept, range);
                } catch (Exception e) {
                    log.warn("event=mirror_error route={} error={}", route, e.toString());
                    Optional<InsufficientStorageException> full = diskFull(e);
                    if (full.isPresent()) {
                        // 507: the node's disk, not the request, is the problem; the client shows the message
                        ctx.executor().execute(() -> sendError(ctx, false, HttpResponseStatus.INSUFFICIENT_STORAGE,
                                "UNAVAILABLE", full.get().getMessage()));
                        return;
                    }
                    ctx.executor().execute(() -> sendError(ctx, false, HttpResponseStatus.INTERNAL_SERVER_ERROR,
                            "UNKNOWN", "lookup failed: " + e.getMessage()));
                } finally {
                    ctx.channel().config().setAutoRead(true);
                }
            });
        } catch (RejectedExecutionException e) {
            ctx.channel().config().setAutoRead(true);
            sendError(ctx, false, HttpResponseStatus.SERVICE_UNAVAILABLE, "UNAVAILABLE", "shutting down");
        }
    }

    private void serve(ChannelHandlerContext ctx, ContentProvider provider, Route route, boolean head, boolean keepAlive,
                       List<String> accept, String range) throws IOException {
        if (route instanceof Route.Blob b) {
            serveBlob(ctx, provider, b, head, keepAlive, range);
        } else if (route instanceof Route.Manifest m) {
            Optional<ManifestContent> found = provider.manifest(m.repository(), m.reference(), accept);
            if (found.isEmpty()) {
                sendError(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "MANIFEST_UNKNOWN",
                        "manifest unknown: " + m.repository() + ":" + m.reference());
                return;
            }
            ManifestContent mc = found.get();
            FullHttpResponse r = full(HttpResponseStatus.OK, mc.bytes(), head);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, mc.mediaType());
            r.headers().set("Docker-Content-Digest", mc.digest().toString());
            r.headers().set(HttpHeaderNames.ETAG, "\"" + mc.digest() + "\"");
            log.debug("event=served kind=manifest repo={} ref={} digest={}", m.repository(), m.reference(), mc.digest());
            write(ctx, r, keepAlive);
        } else {
            FullHttpResponse r = full(HttpResponseStatus.OK, "{}".getBytes(StandardCharsets.US_ASCII), head);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            write(ctx, r, keepAlive);
        }
    }

    private void serveBlob(ChannelHandlerContext ctx, ContentProvider provider, Route.Blob b, boolean head, boolean keepAlive, String rangeHeader)
            throws IOException {
        Optional<BlobContent> found = provider.blob(b.repository(), b.digest());
        if (found.isEmpty()) {
            sendError(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "BLOB_UNKNOWN", "blob unknown: " + b.digest());
            return;
        }
        BlobContent blob = found.get();
        ChannelFuture done = null;
        try {
            done = respond(ctx, blob, b, head, keepAlive, rangeHeader);
        } finally {
            // what the lookup holds (open file, cache pin) lasts exactly as long as the response
            if (done == null) {
                release(blob, b);
            } else {
                done.addListener(f -> release(blob, b));
            }
        }
    }

    /** Sends the blob's response; returns the future of its last write. */
    private ChannelFuture respond(ChannelHandlerContext ctx, BlobContent blob, Route.Blob b, boolean head,
                                  boolean keepAlive, String rangeHeader) throws IOException {
        long size = blob.size();
        ByteRange range;
        try {
            range = ByteRange.parse(rangeHeader, size);
        } catch (ByteRange.Unsatisfiable e) {
            FullHttpResponse r = errorResponse(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "BLOB_UNKNOWN", e.getMessage());
            r.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size);
            return write(ctx, r, keepAlive);
        }
        long offset = range == null ? 0 : range.offset();
        long length = range == null ? size : range.length();
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                range == null ? HttpResponseStatus.OK : HttpResponseStatus.PARTIAL_CONTENT);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
        r.headers().set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
        r.headers().set("Docker-Content-Digest", b.digest().toString());
        r.headers().set(HttpHeaderNames.ETAG, "\"" + b.digest() + "\"");
        if (range != null) {
            r.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes " + offset + "-" + (offset + length - 1) + "/" + size);
        }
        HttpUtil.setKeepAlive(r, keepAlive);
        if (head) {
            ctx.write(r);
            ChannelFuture last = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            finish(ctx, last, keepAlive);
            return last;
        }
        Optional<Path> file = blob.file();
        ChannelFuture last;
        if (file.isPresent() && !blob.growing() && ctx.pipeline().get(SslHandler.class) == null) {
            FileChannel fc = FileChannel.open(file.get(), StandardOpenOption.READ);
            ctx.write(r);
            ctx.write(new DefaultFileRegion(fc, offset, length));
            last = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        } else {
            // opened before the headers go out, so a blob that cannot be served still gets an error status
            InputStream in = blob.open(offset, length);
            ctx.write(r);
            last = ctx.writeAndFlush(new HttpChunkedInput(blob.growing() ? new ArrivingChunkedInput(in, length, ctx)
                    : new ChunkedStream(in, 64 * 1024)));
        }
        last.addListener(f -> {
            if (!f.isSuccess()) {
                // a stream that failed (e.g. the blob did not match its digest) must not leave a short body
                // on a reusable connection: reset it, so the client sees a broken transfer, not a blob
                log.warn("event=blob_stream_aborted digest={} error={}", b.digest(), String.valueOf(f.cause()));
                ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                ctx.close();
            }
        });
        log.debug("event=serving kind=blob repo={} digest={} offset={} bytes={} growing={}", b.repository(), b.digest(),
                offset, length, blob.growing());
        finish(ctx, last, keepAlive);
        return last;
    }

    private static void release(BlobContent blob, Route.Blob b) {
        try {
            blob.close();
        } catch (IOException | RuntimeException e) {
            log.warn("event=blob_release_failed digest={} error={}", b.digest(), e.toString());
        }
    }

    private static Access access(ContentProvider provider, Route route, Optional<String> authorization)
            throws IOException {
        if (route instanceof Route.Blob b) {
            return provider.access(b.repository(), "blobs/" + b.digest(), authorization);
        }
        if (route instanceof Route.Manifest m) {
            return provider.access(m.repository(), "manifests/" + m.reference(), authorization);
        }
        return Access.GRANTED;
    }

    private static Optional<InsufficientStorageException> diskFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InsufficientStorageException full) {
                return Optional.of(full);
            }
        }
        return Optional.empty();
    }

    private static List<String> accept(List<String> headers) {
        List<String> out = new ArrayList<>();
        for (String h : headers) {
            for (String part : h.split(",")) {
                int semi = part.indexOf(';');
                String t = (semi >= 0 ? part.substring(0, semi) : part).trim();
                if (!t.isEmpty() && out.size() < 32) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    private static FullHttpResponse full(HttpResponseStatus status, byte[] body, boolean head) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        r.headers().set("Docker-Distribution-API-Version", "registry/2.0");
        return r;
    }

    private static FullHttpResponse errorResponse(HttpResponseStatus status, String code, String message) {
        String json = "{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + jsonEscape(message) + "\"}]}";
        FullHttpResponse r = full(status, json.getBytes(StandardCharsets.UTF_8), false);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        return r;
    }

    private static void sendError(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status,
                                  String code, String message) {
        write(ctx, errorResponse(status, code, message), keepAlive);
    }

    private static ChannelFuture write(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
        HttpUtil.setKeepAlive(r, keepAlive);
        ChannelFuture f = ctx.writeAndFlush(r);
        finish(ctx, f, keepAlive);
        return f;
    }

    private static void finish(ChannelHandlerContext ctx, ChannelFuture f, boolean keepAlive) {
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static String jsonEscape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            ctx.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("event=mirror_connection_error remote={} error={}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
