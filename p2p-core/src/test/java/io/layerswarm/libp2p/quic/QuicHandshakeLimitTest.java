package io.layerswarm.libp2p.quic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.tls.TlsSecurity;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Inbound QUIC connections count against the host's handshake caps as TCP ones do: a client that sends its
 * Initial and never answers holds a slot until the handshake deadline, the excess is refused at once, and an
 * honest QUIC host (from another address) still connects. The silent clients send from 127.0.0.2 and drop
 * every datagram they receive, so their handshakes never finish.
 */
class QuicHandshakeLimitTest {
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private final Closer open = new Closer();
    private EventLoopGroup clients;

    @BeforeAll
    static void quicLoads() {
        assertTrue(QuicTransport.isAvailable(), "QUIC native library: " + io.netty.handler.codec.quic.Quic.unavailabilityCause());
    }

    @AfterEach
    void closeAll() throws Exception {
        open.close();
        if (clients != null) {
            clients.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private Host quicHost(int perAddress, int total, Duration handshakeTimeout) throws Exception {
        Host h = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/udp/0/quic-v1"))
                .maxInboundHandshakesPerAddress(perAddress).maxInboundHandshakes(total)
                .handshakeTimeout(handshakeTimeout).ioThreads(1).build().start();
        open.add(h);
        return h;
    }

    private static InetSocketAddress quicSocket(Host h) {
        Multiaddr a = h.listenAddrs().stream().filter(QuicTransport::isQuicAddr).findFirst().orElseThrow();
        return QuicTransport.toSocketAddress(a);
    }

    /**
     * A QUIC client on {@code fromIp} that sends its first datagram (the Initial with its ClientHello) and nothing
     * after: no retransmission, no answer to what the host sends back.
     */
    private void openSilent(String fromIp, Host to) throws Exception {
        if (clients == null) {
            clients = new NioEventLoopGroup(1);
        }
        var ssl = QuicSslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
                .applicationProtocols(TlsSecurity.ALPN).build();
        Channel socket = new Bootstrap().group(clients).channel(NioDatagramChannel.class)
                .handler(new ChannelInitializer<NioDatagramChannel>() {
                    @Override
                    protected void initChannel(NioDatagramChannel ch) {
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ReferenceCountUtil.release(msg); // deaf: the handshake never completes
                            }
                        }, new ChannelOutboundHandlerAdapter() {
                            private boolean sent;

                            @Override
                            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                                if (sent) {
                                    ReferenceCountUtil.release(msg); // mute after the first datagram
                                    promise.setSuccess();
                                } else {
                                    sent = true;
                                    ctx.write(msg, promise);
                                }
                            }
                        }, new QuicClientCodecBuilder().sslContext(ssl).maxIdleTimeout(5, TimeUnit.MINUTES)
                                .initialMaxData(1 << 20).build());
                    }
                }).bind(new InetSocketAddress(fromIp, 0)).sync().channel();
        open.add(() -> socket.close().syncUninterruptibly());
        QuicChannel.newBootstrap(socket).handler(new ChannelInboundHandlerAdapter())
                .streamHandler(new ChannelInboundHandlerAdapter()).remoteAddress(quicSocket(to)).connect();
    }

    @Test
    void silentQuicClientsAreCappedPerAddressAndAnHonestQuicHostStillConnects() throws Exception {
        Host b = quicHost(4, 256, Duration.ofMinutes(2));
        for (int i = 0; i < 10; i++) {
            openSilent("127.0.0.2", b);
        }
        Await.until(AWAIT, "b holds 4 QUIC handshakes and refused 6",
                () -> b.handshakesInProgress() == 4 && b.handshakesRefused() == 6);
        Host a = quicHost(4, 256, Duration.ofSeconds(30));
        a.connect(quicAddr(b)).get(30, TimeUnit.SECONDS);
        Await.until(AWAIT, "b kept the honest connection", () -> b.connection(a.peerId()).isPresent());
        assertEquals(4, b.handshakesInProgress(), "the honest handshake is no longer counted once done");
        assertEquals(6, b.handshakesRefused());
    }

    @Test
    void theHandshakeDeadlineClosesSilentQuicClientsAndFreesTheirSlots() throws Exception {
        Host b = quicHost(2, 3, Duration.ofSeconds(5));
        openSilent("127.0.0.2", b);
        openSilent("127.0.0.2", b);
        openSilent("127.0.0.3", b);
        openSilent("127.0.0.3", b);
        Await.until(AWAIT, "3 in all, one refused by the total cap",
                () -> b.handshakesInProgress() == 3 && b.handshakesRefused() == 1);
        // the deadline (5 s) frees them; quiche alone would keep them until its idle timeout (3 x keep-alive, 90 s)
        Await.until(AWAIT, "the handshake deadline freed every slot", () -> b.handshakesInProgress() == 0);
        Host a = quicHost(2, 3, Duration.ofSeconds(30));
        a.connect(quicAddr(b)).get(30, TimeUnit.SECONDS);
        Await.until(AWAIT, "b kept the honest connection", () -> b.connection(a.peerId()).isPresent());
    }

    private static Multiaddr quicAddr(Host h) {
        Multiaddr a = h.listenAddrs().stream().filter(QuicTransport::isQuicAddr).findFirst().orElseThrow();
        return a.encapsulate(Multiaddr.parse("/p2p/" + h.peerId().toBase58()));
    }
}
