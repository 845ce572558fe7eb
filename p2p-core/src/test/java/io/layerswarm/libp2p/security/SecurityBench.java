package io.layerswarm.libp2p.security;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.multistream.MultistreamNegotiator.Role;
import io.layerswarm.libp2p.noise.NoiseSecurity;
import io.layerswarm.libp2p.noise.NoiseSession;
import io.layerswarm.libp2p.security.SecureSession;
import io.layerswarm.libp2p.pnet.SwarmKey;
import io.layerswarm.libp2p.testing.EmbeddedPair;
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
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Throughput of the security layer (not a test): Noise handshakes per second in memory, and bulk
 * transfer over loopback TCP through multistream + Noise, with and without pnet. Run with the test
 * classpath, see BENCHMARKS.md. Prints one {@code key=value} line per measurement.
 */
public final class SecurityBench {

    private SecurityBench() {
    }

    public static void main(String[] args) throws Exception {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 512;
        for (int round = 0; round < 3; round++) {
            compareChaChaPoly(round, 3000);
        }
        cipher(256); // warm-up
        cipher(1024);
        handshakes(200); // warm-up
        handshakes(1000);
        EventLoopGroup group = new NioEventLoopGroup(2);
        try {
            transfer(group, null, 64); // warm-up
            transfer(group, null, mib);
            transfer(group, SwarmKey.generate(), mib);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** Encrypt-only ChaCha20-Poly1305 over 65519-byte frames: Bouncy Castle vs the JDK, same conditions. */
    private static void compareChaChaPoly(int round, int frames) throws Exception {
        byte[] key = new byte[32];
        byte[] pt = new byte[65519];
        byte[] out = new byte[65535];
        long start = System.nanoTime();
        org.bouncycastle.crypto.modes.ChaCha20Poly1305 bc = new org.bouncycastle.crypto.modes.ChaCha20Poly1305();
        org.bouncycastle.crypto.params.KeyParameter kp = new org.bouncycastle.crypto.params.KeyParameter(key);
        for (int i = 0; i < frames; i++) {
            bc.init(true, new org.bouncycastle.crypto.params.AEADParameters(kp, 128, nonce(i), new byte[0]));
            int o = bc.processBytes(pt, 0, pt.length, out, 0);
            bc.doFinal(out, o);
        }
        double bcRate = frames * (double) pt.length / (1 << 20) / ((System.nanoTime() - start) / 1e9);
        start = System.nanoTime();
        javax.crypto.Cipher jdk = javax.crypto.Cipher.getInstance("ChaCha20-Poly1305");
        javax.crypto.spec.SecretKeySpec ks = new javax.crypto.spec.SecretKeySpec(key, "ChaCha20");
        for (int i = 0; i < frames; i++) {
            jdk.init(javax.crypto.Cipher.ENCRYPT_MODE, ks, new javax.crypto.spec.IvParameterSpec(nonce(i)));
            jdk.doFinal(pt, 0, pt.length, out, 0);
        }
        double jdkRate = frames * (double) pt.length / (1 << 20) / ((System.nanoTime() - start) / 1e9);
        System.out.printf("bench=chachapoly_encrypt_bc_vs_jdk round=%d bc_mib_per_second=%.1f jdk_mib_per_second=%.1f%n",
                round, bcRate, jdkRate);
    }

    private static byte[] nonce(int i) {
        byte[] n = new byte[12];
        n[4] = (byte) i;
        n[5] = (byte) (i >>> 8);
        return n;
    }

    private static void cipher(int mib) {
        io.layerswarm.libp2p.noise.CipherState enc = new io.layerswarm.libp2p.noise.CipherState();
        io.layerswarm.libp2p.noise.CipherState dec = new io.layerswarm.libp2p.noise.CipherState();
        byte[] key = new byte[32];
        enc.initializeKey(key);
        dec.initializeKey(key);
        byte[] plain = new byte[65519];
        byte[] ad = new byte[0];
        long bytes = (long) mib << 20;
        long start = System.nanoTime();
        for (long done = 0; done < bytes; done += plain.length) {
            dec.decryptWithAd(ad, enc.encryptWithAd(ad, plain));
        }
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf("bench=chachapoly_encrypt_plus_decrypt mib=%d seconds=%.2f mib_per_second=%.1f%n",
                mib, secs, mib / secs);
    }

    private static void handshakes(int n) {
        NoiseSecurity a = new NoiseSecurity(Ed25519PrivateKey.generate());
        NoiseSecurity b = new NoiseSecurity(Ed25519PrivateKey.generate());
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            EmbeddedPair pair = new EmbeddedPair();
            Future<NoiseSession> f = a.install(pair.initiator.pipeline(), true, null, null);
            b.install(pair.responder.pipeline(), false, null, null);
            pair.pump();
            if (!f.isSuccess()) {
                throw new IllegalStateException("handshake failed", f.cause());
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf("bench=noise_handshake_in_memory count=%d seconds=%.2f per_second=%.0f%n", n, secs, n / secs);
    }

    private static void transfer(EventLoopGroup group, SwarmKey psk, long mib) throws Exception {
        long total = mib << 20;
        AtomicLong received = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        SecurityUpgrader serverUp = new SecurityUpgrader(Ed25519PrivateKey.generate()).withPrivateNetwork(psk);
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        serverUp.secure(c, Role.RESPONDER, null, s -> c.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ByteBuf b = (ByteBuf) msg;
                                if (received.addAndGet(b.readableBytes()) >= total) {
                                    done.countDown();
                                }
                                b.release();
                            }
                        }));
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        SecurityUpgrader clientUp = new SecurityUpgrader(Ed25519PrivateKey.generate()).withPrivateNetwork(psk);
        CompletableFuture<Future<SecureSession>> session = new CompletableFuture<>();
        Channel client = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        session.complete(clientUp.secure(c, Role.INITIATOR, serverUp.localPeerId()));
                    }
                }).connect("127.0.0.1", port).sync().channel();
        session.get().get(10, TimeUnit.SECONDS);
        byte[] chunk = new byte[256 * 1024];
        long start = System.nanoTime();
        int n = 0;
        for (long sent = 0; sent < total; sent += chunk.length) {
            // bounded in-flight data (blocking, not spinning): measures the pipe, not heap growth
            io.netty.channel.ChannelFuture f = client.writeAndFlush(Unpooled.wrappedBuffer(chunk));
            if (++n % 8 == 0) {
                f.sync();
            }
        }
        if (!done.await(300, TimeUnit.SECONDS)) {
            throw new IllegalStateException("transfer did not finish");
        }
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf("bench=secure_tcp_transfer pnet=%s mib=%d seconds=%.2f mib_per_second=%.1f%n",
                psk != null, mib, secs, mib / secs);
        client.close().sync();
        server.close().sync();
    }
}
