package io.layerswarm.mirror;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the read side of the OCI distribution API ({@code /v2/}, manifests and blobs, GET and HEAD,
 * single {@code Range} requests) from a {@link ContentProvider}, so that unmodified clients such as
 * skopeo and containerd can pull through it.
 */
public final class DistributionServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DistributionServer.class);
    /** Requests carry no body on the read side; anything larger is refused by the aggregator. */
    private static final int MAX_REQUEST_BYTES = 8 * 1024;

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ExecutorService lookups;
    private final Channel channel;
    private final boolean ownThreads;

    private DistributionServer(EventLoopGroup boss, EventLoopGroup workers, ExecutorService lookups, Channel channel,
                               boolean ownThreads) {
        this.boss = boss;
        this.workers = workers;
        this.lookups = lookups;
        this.channel = channel;
        this.ownThreads = ownThreads;
    }

    /**
     * Starts a server.
     *
     * @param bind address to listen on (port 0 picks a free port)
     * @param provider what to serve
     * @return the running server
     * @throws InterruptedException if interrupted while binding
     */
    public static DistributionServer start(InetSocketAddress bind, ContentProvider provider) throws InterruptedException {
        Objects.requireNonNull(provider, "provider");
        // Providers may fetch from peers or upstream; keep that off the event loop.
        ExecutorService lookups = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "mirror-lookup");
            t.setDaemon(true);
            return t;
        });
        return start(bind, provider, new NioEventLoopGroup(1), new NioEventLoopGroup(2), lookups, true,
                new MirrorListener() { });
    }

    /**
     * Starts a server on shared threads, which {@link #close()} leaves running.
     *
     * @param group event loop group accepting and serving connections
     * @param lookups runs the provider's blocking lookups and fetches, off the event loop
     */
    public static DistributionServer start(InetSocketAddress bind, ContentProvider provider, EventLoopGroup group,
                                           ExecutorService lookups) throws InterruptedException {
        return start(bind, provider, group, lookups, new MirrorListener() { });
    }

    /**
     * Like {@link #start(InetSocketAddress, ContentProvider, EventLoopGroup, ExecutorService)}, reporting
     * every request answered to {@code listener} (e.g. for a latency histogram).
     */
    public static DistributionServer start(InetSocketAddress bind, ContentProvider provider, EventLoopGroup group,
                                           ExecutorService lookups, MirrorListener listener)
            throws InterruptedException {
        Objects.requireNonNull(provider, "provider");
        return start(bind, provider, group, group, lookups, false, Objects.requireNonNull(listener, "listener"));
    }

    private static DistributionServer start(InetSocketAddress bind, ContentProvider provider, EventLoopGroup boss,
                                            EventLoopGroup workers, ExecutorService lookups, boolean own,
                                            MirrorListener listener)
            throws InterruptedException {
        try {
            Channel ch = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            c.pipeline()
                                    .addLast(new IdleStateHandler(0, 0, 120, TimeUnit.SECONDS))
                                    .addLast(new HttpServerCodec(4096, 8192, 8192))
                                    .addLast(new RequestTimer(listener))
                                    .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                                    .addLast(new ChunkedWriteHandler())
                                    .addLast(new DistributionHandler(provider, lookups));
                        }
                    })
                    .bind(bind).sync().channel();
            log.info("event=mirror_listening address={}", ch.localAddress());
            return new DistributionServer(boss, workers, lookups, ch, own);
        } catch (InterruptedException | RuntimeException e) {
            if (own) {
                boss.shutdownGracefully();
                workers.shutdownGracefully();
                lookups.shutdownNow();
            }
            throw e;
        }
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Base URL, e.g. {@code http://127.0.0.1:5000}. */
    public String url() {
        InetSocketAddress a = address();
        String host = a.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "http://" + host + ":" + a.getPort();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        if (!ownThreads) {
            return;
        }
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        lookups.shutdownNow();
    }
}
