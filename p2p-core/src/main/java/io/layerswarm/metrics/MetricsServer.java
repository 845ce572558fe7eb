package io.layerswarm.metrics;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's operations endpoint: {@code GET /metrics} (Prometheus text format, or OpenMetrics if the
 * scraper asks for it) and {@code GET /healthz} (200 while the node serves, 503 otherwise). Runs on an
 * event loop of its own, so a slow scrape never delays the mirror or the swarm.
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);
    /** Scrapes and probes carry no body. */
    private static final int MAX_REQUEST_BYTES = 4096;

    private final EventLoopGroup group;
    private final Channel channel;

    private MetricsServer(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    /**
     * Binds and starts serving.
     *
     * @param bind address (port 0 picks a free port)
     * @param registry what {@code /metrics} shows
     * @param serving whether the node serves; {@code /healthz} answers 200 while it is true
     * @throws IOException if the address cannot be bound
     */
    public static MetricsServer start(InetSocketAddress bind, PrometheusRegistry registry, BooleanSupplier serving)
            throws IOException {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(serving, "serving");
        EventLoopGroup group = new NioEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "metrics-http");
            t.setDaemon(true);
            return t;
        });
        try {
            Channel ch = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            c.pipeline()
                                    .addLast(new IdleStateHandler(0, 0, 60, TimeUnit.SECONDS))
                                    .addLast(new HttpServerCodec(4096, 8192, 8192))
                                    .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                                    .addLast(new MalformedRequestHandler())
                                    .addLast(new HealthHandler(serving))
                                    .addLast(new ScrapeHandler(registry));
                        }
                    }).bind(bind).awaitUninterruptibly().channel();
            if (!ch.isActive()) {
                throw new IOException("cannot listen on " + bind.getHostString() + ":" + bind.getPort()
                        + " for metrics: address in use or not local");
            }
            log.info("event=metrics_listening address={}", ch.localAddress());
            return new MetricsServer(group, ch);
        } catch (IOException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
