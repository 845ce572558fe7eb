package io.layerswarm.libp2p.yamux;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Two Yamux sessions over a real loopback TCP connection, for tests. */
final class YamuxTcpPair implements AutoCloseable {
    final EventLoopGroup group = new NioEventLoopGroup(2);
    final Channel server;
    final Channel clientChannel;
    final YamuxSession client;
    final YamuxSession serverSession;

    YamuxTcpPair(YamuxConfig serverConfig, ChannelHandler serverInbound, YamuxConfig clientConfig,
                 ChannelHandler clientInbound) throws Exception {
        this(serverConfig, serverInbound, clientConfig, clientInbound, ByteBufAllocator.DEFAULT);
    }

    YamuxTcpPair(YamuxConfig serverConfig, ChannelHandler serverInbound, YamuxConfig clientConfig,
                 ChannelHandler clientInbound, ByteBufAllocator serverAllocator) throws Exception {
        CompletableFuture<YamuxSession> accepted = new CompletableFuture<>();
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.ALLOCATOR, serverAllocator)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        YamuxSession s = new YamuxSession(false, serverConfig, serverInbound);
                        ch.pipeline().addLast(s);
                        accepted.complete(s);
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        client = new YamuxSession(true, clientConfig, clientInbound);
        clientChannel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(client).connect(server.localAddress()).sync().channel();
        serverSession = accepted.get(5, TimeUnit.SECONDS);
    }

    static YamuxTcpPair withServer(ChannelHandler serverInbound) throws Exception {
        return new YamuxTcpPair(YamuxConfig.defaults(), serverInbound, YamuxConfig.defaults(),
                YamuxTestHandlers.REJECT);
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() throws Exception {
        clientChannel.close().sync();
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
}
