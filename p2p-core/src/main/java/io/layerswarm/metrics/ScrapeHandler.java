package io.layerswarm.metrics;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Answers {@code /metrics} with a scrape of the registry in the format the scraper accepts; 404 for other paths. */
final class ScrapeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(ScrapeHandler.class);
    private static final String TEXT = "text/plain; charset=utf-8";

    private final PrometheusRegistry registry;
    private final ExpositionFormats formats = ExpositionFormats.init();

    ScrapeHandler(PrometheusRegistry registry) {
        this.registry = registry;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (!HttpReplies.path(req).equals("/metrics")) {
            HttpReplies.send(ctx, req, HttpResponseStatus.NOT_FOUND, TEXT,
                    "not found: try /metrics or /healthz\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        if (!HttpReplies.isRead(req)) {
            HttpReplies.send(ctx, req, HttpResponseStatus.METHOD_NOT_ALLOWED, TEXT,
                    "GET or HEAD\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        ExpositionFormatWriter writer = formats.findWriter(req.headers().get(HttpHeaderNames.ACCEPT));
        if (!writer.isAvailable()) {
            // protobuf is asked for but not on the class path: text is always acceptable to Prometheus
            writer = formats.getPrometheusTextFormatWriter();
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream(8192);
        try {
            writer.write(body, registry.scrape());
        } catch (IOException | RuntimeException e) {
            log.warn("event=scrape_failed error=\"{}\"", e.toString());
            HttpReplies.send(ctx, req, HttpResponseStatus.INTERNAL_SERVER_ERROR, TEXT,
                    ("scrape failed: " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
            return;
        }
        HttpReplies.send(ctx, req, HttpResponseStatus.OK, writer.getContentType(), body.toByteArray());
    }
}
