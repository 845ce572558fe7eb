package io.layerswarm.libp2p.bench;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.mux.MuxedStream;
import io.layerswarm.libp2p.noise.CipherState;
import io.layerswarm.libp2p.noise.NoiseSecurity;
import io.layerswarm.libp2p.noise.NoiseTransportHandler;
import io.layerswarm.libp2p.tls.TlsSecurity;
import io.layerswarm.libp2p.yamux.YamuxConfig;
import io.layerswarm.libp2p.yamux.YamuxSession;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Loopback throughput in one run: plain TCP (Netty), Yamux alone, libp2p Noise + Yamux and TLS + Yamux
 * (BoringSSL and JDK engines) and QUIC with 1 and 64 streams, and curl downloading the same number of bytes as a
 * blob from a local docker-registry.
 *
 * <p>Run: {@code scripts/bench/libp2p-bench.sh 2048 5} (MiB per transfer, repetitions, optional parts).
 */
public final class Libp2pThroughputBench {
    private static final String SINK = "/layerswarm/bench/sink/1.0.0";
    private static final int CHUNK = 64 * 1024;

    private Libp2pThroughputBench() {
    }

    public static void main(String[] args) throws Exception {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 512;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        // Optional third argument: which parts to run (comma list of tcp,yamux,noise,tls,tls-jdk,quic,curl,interleaved,cipher).
        java.util.Set<String> only = java.util.Set.of(
                (args.length > 2 ? args[2] : "tcp,yamux,noise,tls,tls-jdk,quic,curl,interleaved,cipher").split(","));
        long bytes = mib << 20;
        ByteBuf payload = Unpooled.unreleasableBuffer(Unpooled.directBuffer(CHUNK).writeBytes(random(CHUNK)));

        System.out.printf(Locale.ROOT, "bytes per transfer: %d MiB, repetitions: %d, cores: %d%n", mib, reps,
                Runtime.getRuntime().availableProcessors());
        List<String[]> rows = new ArrayList<>();
        if (only.contains("tcp")) {
            rows.add(row("plain TCP (Netty, 1 connection)", best(reps, () -> plainTcp(bytes, payload)), bytes));
        }
        if (only.contains("yamux")) {
            rows.add(row("Yamux over plain TCP, 1 stream (no encryption)",
                    best(reps, () -> yamuxTcp(bytes, 1, payload)), bytes));
            rows.add(row("Yamux over plain TCP, 64 streams (no encryption)",
                    best(reps, () -> yamuxTcp(bytes, 64, payload)), bytes));
        }
        record Secured(String part, String name, String protocol, TlsSecurity.Engine engine) {
        }
        for (Secured sec : List.of(
                new Secured("noise", "Noise", NoiseSecurity.PROTOCOL_ID, TlsSecurity.Engine.AUTO),
                new Secured("tls", "TLS (BoringSSL)", TlsSecurity.PROTOCOL_ID, TlsSecurity.Engine.OPENSSL),
                new Secured("tls-jdk", "TLS (JDK SSLEngine)", TlsSecurity.PROTOCOL_ID, TlsSecurity.Engine.JDK))) {
            if (!only.contains(sec.part())) {
                continue;
            }
            try (Host a = host(sec.protocol(), sec.engine()); Host b = host(sec.protocol(), sec.engine())) {
                Connection c = connectToSink(a, b);
                if (!c.securityProtocol().equals(sec.protocol())) {
                    throw new IllegalStateException("negotiated " + c.securityProtocol() + ", wanted " + sec.protocol());
                }
                rows.add(row("libp2p " + sec.name() + "+Yamux, 1 stream",
                        best(reps, () -> libp2p(c, bytes, 1, payload)), bytes));
                rows.add(row("libp2p " + sec.name() + "+Yamux, 64 streams",
                        best(reps, () -> libp2p(c, bytes, 64, payload)), bytes));
            }
        }
        if (only.contains("quic")) {
            try (Host a = quicHost(); Host b = quicHost()) {
                Connection c = connectToSink(a, b);
                rows.add(row("libp2p QUIC (quiche, TLS 1.3 inside), 1 stream",
                        best(reps, () -> libp2p(c, bytes, 1, payload)), bytes));
                rows.add(row("libp2p QUIC (quiche, TLS 1.3 inside), 64 streams",
                        best(reps, () -> libp2p(c, bytes, 64, payload)), bytes));
            }
        }
        if (only.contains("curl")) {
            rows.add(row("curl from docker-registry (HTTP)", registryCurl(bytes, reps), bytes));
        }
        if (only.contains("interleaved")) {
            interleaved(bytes, reps, payload);
        }
        if (only.contains("cipher")) {
            rows.add(row("Noise cipher alone: ChaCha20-Poly1305 seal+open in memory, 1 thread",
                    best(reps, () -> cipherOnly(bytes)), bytes));
            rows.add(row("for comparison: JDK javax.crypto ChaCha20-Poly1305 seal+open, 1 thread",
                    best(reps, () -> jdkCipher(bytes)), bytes));
        }
        System.out.println();
        System.out.println("| transfer | best of " + reps + " (s) | MiB/s |");
        System.out.println("| --- | --- | --- |");
        for (String[] r : rows) {
            System.out.println("| " + r[0] + " | " + r[1] + " | " + r[2] + " |");
        }
        // The yardstick: encrypted libp2p against curl over plain HTTP, same run.
        String[] curl = rows.stream().filter(r -> r[0].startsWith("curl")).findFirst().orElse(null);
        if (curl != null) {
            System.out.println();
            for (String[] r : rows) {
                if (r[0].startsWith("libp2p")) {
                    System.out.printf(Locale.ROOT, "ratio %s / curl = %.1f %%%n", r[0],
                            100.0 * Double.parseDouble(r[2]) / Double.parseDouble(curl[2]));
                }
            }
        }
    }

    /**
     * curl and libp2p TLS (BoringSSL) 1 and 64 streams taking turns, {@code 3 * reps} rounds, so drift
     * in the machine (other tenants, clocks) weighs on both sides of each ratio alike; prints each
     * round's ratios and their medians.
     */
    private static void interleaved(long bytes, int reps, ByteBuf payload) throws Exception {
        try (RegistryBlob blob = new RegistryBlob(bytes);
                Host a = host(TlsSecurity.PROTOCOL_ID, TlsSecurity.Engine.OPENSSL);
                Host b = host(TlsSecurity.PROTOCOL_ID, TlsSecurity.Engine.OPENSSL)) {
            Connection c = connectToSink(a, b);
            Run one = () -> libp2p(c, bytes, 1, payload);
            Run many = () -> libp2p(c, bytes, 64, payload);
            long warmUntil = System.nanoTime() + 5_000_000_000L;
            for (int i = 0; i < 3 || System.nanoTime() < warmUntil; i++) {
                blob.curl();
                one.seconds();
                many.seconds();
            }
            List<Double> r1 = new ArrayList<>();
            List<Double> r64 = new ArrayList<>();
            System.out.println();
            System.out.println("| round | curl MiB/s | TLS 1 stream MiB/s | TLS 64 streams MiB/s | 1 stream / curl | 64 streams / curl |");
            System.out.println("| ---: | ---: | ---: | ---: | ---: | ---: |");
            double mib = bytes / (double) (1 << 20);
            for (int i = 1; i <= 3 * reps; i++) {
                double curl = mib / blob.curl();
                double t1 = mib / one.seconds();
                double t64 = mib / many.seconds();
                r1.add(t1 / curl);
                r64.add(t64 / curl);
                System.out.printf(Locale.ROOT, "| %d | %.0f | %.0f | %.0f | %.1f %% | %.1f %% |%n", i, curl, t1, t64,
                        100 * t1 / curl, 100 * t64 / curl);
            }
            System.out.printf(Locale.ROOT, "median ratio, interleaved, %d rounds: 1 stream %.1f %%, 64 streams %.1f %%%n",
                    r1.size(), 100 * median(r1), 100 * median(r64));
        }
    }

    private static double median(List<Double> xs) {
        List<Double> sorted = new ArrayList<>(xs);
        java.util.Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    interface Run {
        double seconds() throws Exception;
    }

    private static double best(int reps, Run run) throws Exception {
        // Warm-up (JIT, pools): at least two runs and 3 s, so C2 has compiled the hot paths before timing;
        // with one short warm-up the timed runs still shared the cores with the JIT compiler threads.
        long warmUntil = System.nanoTime() + 3_000_000_000L;
        for (int i = 0; i < 2 || System.nanoTime() < warmUntil; i++) {
            run.seconds();
        }
        double best = Double.MAX_VALUE;
        for (int i = 0; i < reps; i++) {
            double s = run.seconds();
            System.out.printf(Locale.ROOT, "  run %d: %.3f s%n", i + 1, s);
            best = Math.min(best, s);
        }
        return best;
    }

    private static String[] row(String name, double seconds, long bytes) {
        System.out.printf(Locale.ROOT, "%s: %.3f s, %.1f MiB/s%n", name, seconds, bytes / seconds / (1 << 20));
        return new String[] {name, String.format(Locale.ROOT, "%.3f", seconds),
            String.format(Locale.ROOT, "%.0f", bytes / seconds / (1 << 20))};
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(1).nextBytes(b);
        return b;
    }

    /** Makes {@code b} count and drop {@link #SINK} streams and connects {@code a} to it. */
    private static Connection connectToSink(Host a, Host b) throws Exception {
        b.setStreamHandler(SINK, s -> s.channel().pipeline().addLast(new Sink()));
        return a.connect(b.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + b.peerId().toBase58())))
                .get(10, TimeUnit.SECONDS);
    }

    private static Host quicHost() throws IOException {
        return Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/udp/0/quic-v1"))
                .ioThreads(1).build().start();
    }

    private static Host host(String security, TlsSecurity.Engine engine) throws IOException {
        return Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .security(List.of(security)).tlsEngine(engine).ioThreads(1).build().start();
    }

    // ---- senders and sinks ---------------------------------------------------------------------

    /** Writes {@code total} bytes as fast as writability allows, then half-closes. */
    static final class Blaster extends ChannelInboundHandlerAdapter {
        private final long total;
        private final ByteBuf payload;
        private long sent;
        final CompletableFuture<Void> acked = new CompletableFuture<>();

        Blaster(long total, ByteBuf payload) {
            this.total = total;
            this.payload = payload;
        }

        void start(Channel ch) {
            ch.eventLoop().execute(() -> pump(ch));
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            pump(ctx.channel());
            ctx.fireChannelWritabilityChanged();
        }

        private void pump(Channel ch) {
            while (sent < total && ch.isWritable()) {
                int n = (int) Math.min(CHUNK, total - sent);
                ch.write(payload.retainedSlice(0, n));
                sent += n;
            }
            ch.flush();
            if (sent == total && ch instanceof SocketChannel s) {
                sent++; // only once
                s.shutdownOutput();
            } else if (sent == total && ch.isActive()) {
                sent++;
                MuxedStream.of(ch).shutdownOutput();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ((ByteBuf) msg).release();
            acked.complete(null);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            acked.completeExceptionally(cause);
        }
    }

    /** Counts and drops bytes; after the peer's FIN answers one byte and closes. */
    static final class Sink extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ((ByteBuf) msg).release();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'k'}));
                if (ctx.channel() instanceof SocketChannel) {
                    ctx.close();
                } else {
                    MuxedStream.of(ctx.channel()).shutdownOutput();
                }
            }
        }
    }

    private static double libp2p(Connection c, long bytes, int streams, ByteBuf payload) throws Exception {
        List<Blaster> blasters = new ArrayList<>();
        List<CompletableFuture<?>> opened = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            Blaster bl = new Blaster(bytes / streams, payload);
            blasters.add(bl);
            opened.add(c.newStream(List.of(SINK), s -> s.channel().pipeline().addLast(bl)));
        }
        CompletableFuture.allOf(opened.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        long t0 = System.nanoTime();
        for (int i = 0; i < streams; i++) {
            blasters.get(i).start(((io.layerswarm.libp2p.host.P2pStream) opened.get(i).get()).channel());
        }
        CompletableFuture.allOf(blasters.stream().map(b -> b.acked).toArray(CompletableFuture[]::new))
                .get(300, TimeUnit.SECONDS);
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The Noise transport cipher (libp2p-secure's CipherState) sealing and opening the bytes in memory. */
    private static double cipherOnly(long bytes) {
        CipherState seal = new CipherState();
        CipherState open = new CipherState();
        byte[] k = random(32);
        seal.initializeKey(k);
        open.initializeKey(k);
        byte[] plain = random(NoiseTransportHandler.MAX_PLAINTEXT);
        byte[] ad = new byte[0];
        long t0 = System.nanoTime();
        for (long done = 0; done < bytes; done += plain.length) {
            open.decryptWithAd(ad, seal.encryptWithAd(ad, plain));
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The JDK's own ChaCha20-Poly1305 on the same message sizes, to show what another cipher would give. */
    private static double jdkCipher(long bytes) throws Exception {
        javax.crypto.Cipher seal = javax.crypto.Cipher.getInstance("ChaCha20-Poly1305");
        javax.crypto.Cipher open = javax.crypto.Cipher.getInstance("ChaCha20-Poly1305");
        javax.crypto.spec.SecretKeySpec key = new javax.crypto.spec.SecretKeySpec(random(32), "ChaCha20");
        byte[] plain = random(NoiseTransportHandler.MAX_PLAINTEXT);
        byte[] nonce = new byte[12];
        long n = 0;
        long t0 = System.nanoTime();
        for (long done = 0; done < bytes; done += plain.length) {
            java.nio.ByteBuffer.wrap(nonce, 4, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(n++);
            seal.init(javax.crypto.Cipher.ENCRYPT_MODE, key, new javax.crypto.spec.IvParameterSpec(nonce));
            byte[] ct = seal.doFinal(plain);
            open.init(javax.crypto.Cipher.DECRYPT_MODE, key, new javax.crypto.spec.IvParameterSpec(nonce));
            open.doFinal(ct);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Yamux directly on TCP: the muxer's own cost, without encryption. */
    private static double yamuxTcp(long bytes, int streams, ByteBuf payload) throws Exception {
        EventLoopGroup server = new NioEventLoopGroup(1);
        EventLoopGroup client = new NioEventLoopGroup(1);
        ChannelInitializer<Channel> sinkStreams = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new Sink());
            }
        };
        try {
            Channel s = new ServerBootstrap().group(server).channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(512 << 10, 2 << 20))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new YamuxSession(false, YamuxConfig.defaults(), sinkStreams));
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            YamuxSession session = new YamuxSession(true, YamuxConfig.defaults(), sinkStreams);
            Channel ch = new Bootstrap().group(client).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(512 << 10, 2 << 20))
                    .handler(session).connect(s.localAddress()).sync().channel();
            List<Blaster> blasters = new ArrayList<>();
            List<Channel> channels = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                Blaster bl = new Blaster(bytes / streams, payload);
                blasters.add(bl);
                channels.add(session.openStream(bl).get(10, TimeUnit.SECONDS));
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < streams; i++) {
                blasters.get(i).start(channels.get(i));
            }
            CompletableFuture.allOf(blasters.stream().map(b -> b.acked).toArray(CompletableFuture[]::new))
                    .get(300, TimeUnit.SECONDS);
            double secs = (System.nanoTime() - t0) / 1e9;
            ch.close().sync();
            s.close().sync();
            return secs;
        } finally {
            server.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            client.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static double plainTcp(long bytes, ByteBuf payload) throws Exception {
        EventLoopGroup server = new NioEventLoopGroup(1);
        EventLoopGroup client = new NioEventLoopGroup(1);
        try {
            Channel s = new ServerBootstrap().group(server).channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new Sink());
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            Blaster bl = new Blaster(bytes, payload);
            Channel ch = new Bootstrap().group(client).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(512 << 10, 2 << 20))
                    .handler(bl).connect(s.localAddress()).sync().channel();
            long t0 = System.nanoTime();
            bl.start(ch);
            bl.acked.get(300, TimeUnit.SECONDS);
            double secs = (System.nanoTime() - t0) / 1e9;
            ch.close().sync();
            s.close().sync();
            return secs;
        } finally {
            server.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            client.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    // ---- docker-registry + curl ----------------------------------------------------------------

    private static double registryCurl(long bytes, int reps) throws Exception {
        try (RegistryBlob blob = new RegistryBlob(bytes)) {
            System.out.println("curl " + blob.url);
            return best(reps, blob::curl);
        }
    }

    /** A docker-registry on a random loopback port holding one random blob of the given size. */
    static final class RegistryBlob implements AutoCloseable {
        private final Path dir;
        private final Process registry;
        private final long bytes;
        final String url;

        RegistryBlob(long bytes) throws Exception {
            this.bytes = bytes;
            dir = Files.createTempDirectory("bench-registry");
            int port;
            try (ServerSocket ss = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = ss.getLocalPort();
            }
            Files.writeString(dir.resolve("cfg.yml"), "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                    + "    rootdirectory: " + dir.resolve("data") + "\nhttp:\n  addr: 127.0.0.1:" + port + "\n");
            registry = new ProcessBuilder("/usr/bin/docker-registry", "serve", dir.resolve("cfg.yml").toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
            try {
                url = push(port);
            } catch (Exception e) {
                close();
                throw e;
            }
        }

        private String push(int port) throws Exception {
            String base = "http://127.0.0.1:" + port;
            HttpClient http = HttpClient.newHttpClient();
            for (int i = 0; i < 100; i++) {
                try {
                    if (http.send(HttpRequest.newBuilder(URI.create(base + "/v2/")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        break;
                    }
                } catch (IOException notYet) {
                    Thread.sleep(100);
                }
            }
            Path blob = dir.resolve("blob");
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] chunk = new byte[1 << 20];
            Random rnd = new Random(2);
            try (OutputStream out = Files.newOutputStream(blob)) {
                for (long w = 0; w < bytes; w += chunk.length) {
                    rnd.nextBytes(chunk);
                    md.update(chunk);
                    out.write(chunk);
                }
            }
            String digest = "sha256:" + HexFormat.of().formatHex(md.digest());
            HttpResponse<Void> start = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/bench/blobs/uploads/"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
            String location = start.headers().firstValue("Location").orElseThrow();
            URI put = URI.create(location.startsWith("http") ? location : base + location);
            String sep = put.getQuery() == null ? "?" : "&";
            HttpResponse<Void> done = http.send(HttpRequest.newBuilder(URI.create(put + sep + "digest=" + digest))
                    .header("Content-Type", "application/octet-stream")
                    .PUT(HttpRequest.BodyPublishers.ofFile(blob)).build(), HttpResponse.BodyHandlers.discarding());
            if (done.statusCode() != 201) {
                throw new IOException("blob push failed: HTTP " + done.statusCode());
            }
            Files.delete(blob);
            return base + "/v2/bench/blobs/" + digest;
        }

        /** One {@code curl -o /dev/null} of the blob; seconds as curl reports them. */
        double curl() throws Exception {
            Process p = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total}",
                    url).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor() != 0) {
                throw new IOException("curl failed");
            }
            String[] parts = out.split(" ");
            if (Long.parseLong(parts[0]) != bytes) {
                throw new IOException("curl downloaded " + parts[0] + " bytes");
            }
            return Double.parseDouble(parts[1]);
        }

        @Override
        public void close() throws Exception {
            registry.destroy();
            registry.waitFor(5, TimeUnit.SECONDS);
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
