package io.layerswarm.k8s.extender;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kube-scheduler extender HTTP endpoint: {@code POST urlPrefix/filter}, {@code /prioritize},
 * {@code /bind}, LayerSwarm's {@code /started} (a pod bound without an API server has started), and
 * {@code GET /healthz}. The event loops only parse and write; the verbs run on the
 * given executor, since image resolution may wait (bounded) on a registry.
 */
public final class ExtenderHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ExtenderHttpServer.class);
    private final Channel channel;
    private final String urlPrefix;

    private ExtenderHttpServer(Channel channel, String urlPrefix) {
        this.channel = channel;
        this.urlPrefix = urlPrefix;
    }

    /**
     * Binds and starts serving.
     *
     * @param listen address to bind (port 0 picks one)
     * @param urlPrefix the path the scheduler's {@code urlPrefix} ends in, e.g. {@code /scheduler} or empty
     * @param service the verbs
     * @param maxBodyBytes largest request body accepted; larger ones get 400
     * @param boss accepts connections
     * @param workers serve connections
     * @param verbs runs the verbs
     */
    public static ExtenderHttpServer start(InetSocketAddress listen, String urlPrefix, ExtenderService service,
                                           int maxBodyBytes, EventLoopGroup boss, EventLoopGroup workers,
                                           Executor verbs) throws InterruptedException {
        String prefix = normalise(urlPrefix);
        ExtenderJson json = new ExtenderJson();
        warmUp(new ExtenderHttpHandler(prefix, service, json, verbs));
        Channel ch = new ServerBootstrap()
                .group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        c.pipeline()
                                // a stalled client must not hold a connection past the scheduler's own timeout
                                .addLast(new ReadTimeoutHandler(30))
                                .addLast(new HttpServerCodec(4096, 16 * 1024, 64 * 1024))
                                .addLast(new BadRequestOnOversizeAggregator(maxBodyBytes))
                                .addLast(new ExtenderHttpHandler(prefix, service, json, verbs));
                    }
                })
                .bind(listen).sync().channel();
        LOG.info("event=extender_listening address={} prefix={}", ch.localAddress(), prefix);
        return new ExtenderHttpServer(ch, prefix);
    }

    /**
     * Runs filter and prioritize once on a pod without images before serving: the first scheduling call
     * must not pay for loading the JSON and Kubernetes model classes, which on a loaded node took seconds
     * (the testbed's first call ran into kube-scheduler's 5 s timeout).
     */
    private static void warmUp(ExtenderHttpHandler handler) {
        long start = System.nanoTime();
        byte[] body = ("{\"Pod\":{\"metadata\":{\"name\":\"warm-up\",\"namespace\":\"layerswarm\",\"uid\":\"warm-up\"},"
                + "\"spec\":{\"containers\":[{\"name\":\"c\"}]}},\"NodeNames\":[\"layerswarm-warm-up\"]}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try {
            handler.respond("filter", body);
            handler.respond("prioritize", body);
            LOG.info("event=extender_warm ms={}", (System.nanoTime() - start) / 1_000_000);
        } catch (RuntimeException e) {
            LOG.warn("event=extender_warm_failed reason=\"{}\"", e.toString());
        }
    }

    /** Normalises a prefix to {@code ""} or {@code /a/b} (no trailing slash). */
    static String normalise(String prefix) {
        String p = prefix == null ? "" : prefix.trim();
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p.isEmpty() || p.startsWith("/") ? p : "/" + p;
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** The {@code urlPrefix} a scheduler configuration should name. */
    public String url() {
        return "http://" + address().getHostString() + ":" + address().getPort() + urlPrefix;
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }
}
