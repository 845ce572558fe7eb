package io.layerswarm.libp2p.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerIdMismatchException;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.multistream.MultistreamNegotiator.Role;
import io.layerswarm.libp2p.pnet.SwarmKey;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Full security phase over real loopback TCP: multistream(/noise), Noise, optional pnet. */
class SecurityUpgraderTest {

    /** Shared with {@link TlsUpgradeTest}; daemon threads, so it is never shut down mid-suite. */
    static final EventLoopGroup GROUP = new NioEventLoopGroup(2, new DefaultThreadFactory("security-test", true));

    /** Echoes plaintext back after the upgrade. */
    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }
    }

    record Server(Channel channel, CompletableFuture<SecureSession> session) {
        int port() {
            return ((InetSocketAddress) channel.localAddress()).getPort();
        }
    }

    static Server server(SecurityUpgrader upgrader) throws InterruptedException {
        CompletableFuture<SecureSession> session = new CompletableFuture<>();
        Channel ch = new ServerBootstrap().group(GROUP).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        upgrader.secure(c, Role.RESPONDER, null, s -> c.pipeline().addLast(new Echo()))
                                .addListener(f -> {
                                    if (f.isSuccess()) {
                                        session.complete((SecureSession) f.getNow());
                                    } else {
                                        session.completeExceptionally(f.cause());
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        return new Server(ch, session);
    }

    record Dialled(Channel channel, Future<SecureSession> session) {
    }

    /** Dials and installs the upgrader in the initializer, before any byte can arrive. */
    static Dialled dial(int port, SecurityUpgrader upgrader, PeerId expected, ChannelInboundHandlerAdapter app)
            throws InterruptedException {
        CompletableFuture<Future<SecureSession>> session = new CompletableFuture<>();
        Channel ch = new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        session.complete(upgrader.secure(c, Role.INITIATOR, expected,
                                s -> {
                                    if (app != null) {
                                        c.pipeline().addLast(app);
                                    }
                                }));
                    }
                }).connect("127.0.0.1", port).sync().channel();
        return new Dialled(ch, session.join());
    }

    static final class Collect extends ChannelInboundHandlerAdapter {
        final ByteBuf got = Unpooled.buffer();
        final CompletableFuture<byte[]> done = new CompletableFuture<>();
        final int expected;

        Collect(int expected) {
            this.expected = expected;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            got.writeBytes((ByteBuf) msg);
            ((ByteBuf) msg).release();
            if (got.readableBytes() >= expected) {
                byte[] b = new byte[got.readableBytes()];
                got.readBytes(b);
                done.complete(b);
            }
        }
    }

    @Test
    void securesOverTcpAndEchoesLargeData() throws Exception {
        Ed25519PrivateKey serverKey = Ed25519PrivateKey.generate();
        Ed25519PrivateKey clientKey = Ed25519PrivateKey.generate();
        Server server = server(new SecurityUpgrader(serverKey));
        try {
            byte[] data = new byte[300_000];
            new Random(4).nextBytes(data);
            Collect collect = new Collect(data.length);
            Dialled d = dial(server.port(), new SecurityUpgrader(clientKey), serverKey.peerId(), collect);
            Channel client = d.channel();
            SecureSession session = d.session().get(10, TimeUnit.SECONDS);
            assertEquals(serverKey.peerId(), session.remotePeerId());
            assertEquals(clientKey.peerId(), server.session.get(10, TimeUnit.SECONDS).remotePeerId());
            client.writeAndFlush(Unpooled.wrappedBuffer(data));
            assertArrayEquals(data, collect.done.get(10, TimeUnit.SECONDS));
            client.close().sync();
        } finally {
            server.channel.close().sync();
        }
    }

    @Test
    void wrongPeerIdIsRejected() throws Exception {
        Ed25519PrivateKey serverKey = Ed25519PrivateKey.generate();
        Server server = server(new SecurityUpgrader(serverKey));
        try {
            PeerId other = Ed25519PrivateKey.generate().peerId();
            Dialled d = dial(server.port(), new SecurityUpgrader(Ed25519PrivateKey.generate()), other, null);
            Channel client = d.channel();
            Future<SecureSession> f = d.session();
            assertTrue(f.await(10, TimeUnit.SECONDS));
            assertInstanceOf(PeerIdMismatchException.class, f.cause());
            assertTrue(client.closeFuture().await(5, TimeUnit.SECONDS));
        } finally {
            server.channel.close().sync();
        }
    }

    @Test
    void privateNetworkWithRightAndWrongKey() throws Exception {
        SwarmKey psk = SwarmKey.generate();
        Ed25519PrivateKey serverKey = Ed25519PrivateKey.generate();
        Server server = server(new SecurityUpgrader(serverKey).withPrivateNetwork(psk).withTimeout(Duration.ofSeconds(3)));
        try {
            Collect collect = new Collect(5);
            Dialled okd = dial(server.port(), new SecurityUpgrader(Ed25519PrivateKey.generate()).withPrivateNetwork(psk),
                    serverKey.peerId(), collect);
            Channel ok = okd.channel();
            okd.session().get(10, TimeUnit.SECONDS);
            ok.writeAndFlush(Unpooled.wrappedBuffer("hello".getBytes()));
            assertEquals("hello", new String(collect.done.get(10, TimeUnit.SECONDS)));

            Dialled badd = dial(server.port(), new SecurityUpgrader(Ed25519PrivateKey.generate())
                    .withPrivateNetwork(SwarmKey.generate()).withTimeout(Duration.ofSeconds(3)), serverKey.peerId(), null);
            Channel bad = badd.channel();
            Future<SecureSession> f = badd.session();
            assertTrue(f.await(10, TimeUnit.SECONDS));
            assertFalse(f.isSuccess());
            assertTrue(bad.closeFuture().await(5, TimeUnit.SECONDS), "wrong key: connection closed");

            // no pnet at all against a private node
            Future<SecureSession> g = dial(server.port(), new SecurityUpgrader(Ed25519PrivateKey.generate())
                    .withTimeout(Duration.ofSeconds(3)), serverKey.peerId(), null).session();
            assertTrue(g.await(10, TimeUnit.SECONDS));
            assertFalse(g.isSuccess());
        } finally {
            server.channel.close().sync();
        }
    }
}
