package io.layerswarm.daemon.bench;

import io.layerswarm.daemon.demo.UplinkEmulator;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.yamux.YamuxConfig;
import io.layerswarm.libp2p.yamux.YamuxStreamChannel;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code layerswarm bench-link}: one libp2p stream (TLS + Yamux) over an emulated long link
 * ({@link UplinkEmulator}: shared token bucket for the bandwidth, queued delay for the round trip),
 * once with Yamux receive-window auto-tuning and once with the window held at the spec's 256 KiB.
 * Shows whether a stream is window-bound on a high bandwidth-delay link: 256 KiB per 50 ms is at most
 * ~42 Mbit/s whatever the link.
 */
@Command(name = "bench-link", mixinStandardHelpOptions = true,
        description = "Benchmark: one libp2p stream over an emulated long link, with and without Yamux window growth.")
public final class LinkBenchCommand implements Callable<Integer> {
    static final String SOURCE = "/layerswarm/bench/source/1.0.0";

    @Option(names = "--mbps", defaultValue = "100", description = "Link bandwidth in Mbit/s (default: ${DEFAULT-VALUE}).")
    double mbps;

    @Option(names = "--rtt-ms", defaultValue = "50", description = "Added round-trip time (default: ${DEFAULT-VALUE}).")
    long rttMs;

    @Option(names = "--mib", defaultValue = "48", description = "MiB sent per transfer (default: ${DEFAULT-VALUE}).")
    int mib;

    @Override
    public Integer call() throws Exception {
        if (mbps <= 0 || rttMs < 0 || mib < 1 || mib > 4096) {
            System.err.println("error: --mbps > 0, --rtt-ms >= 0, --mib in 1..4096");
            return 1;
        }
        double bdpBytes = mbps * 1e6 / 8 * rttMs / 1000.0;
        System.out.printf(Locale.ROOT, "link %.0f Mbit/s +%d ms RTT (bandwidth-delay product %.0f KiB), %d MiB per transfer, "
                + "1 stream, TLS + Yamux%n%n", mbps, rttMs, bdpBytes / 1024, mib);
        System.out.println("| receive window | time (s) | Mbit/s overall | Mbit/s, second half | of link | final window (KiB) |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
        boolean ok = true;
        for (boolean grow : List.of(true, false)) {
            YamuxConfig cfg = grow ? YamuxConfig.defaults()
                    : YamuxConfig.defaults().withMaxWindow(YamuxConfig.SPEC_INITIAL_WINDOW);
            Result r = transfer(cfg);
            ok &= r.bytes == (long) mib << 20;
            double secondHalf = (r.bytes / 2.0) * 8 / r.secondHalfSeconds / 1e6;
            System.out.printf(Locale.ROOT, "| %s | %.2f | %.1f | %.1f | %.0f %% | %d |%n",
                    grow ? "auto-tuned (256 KiB .. 16 MiB)" : "fixed 256 KiB", r.seconds, r.bytes * 8 / r.seconds / 1e6,
                    secondHalf, 100 * secondHalf / mbps, r.finalWindow / 1024);
        }
        return ok ? 0 : 3;
    }

    record Result(long bytes, double seconds, double secondHalfSeconds, int finalWindow) {
    }

    /** Serves {@code total} bytes of zeros on every {@link #SOURCE} stream. */
    static void serveSource(Host host, long total) {
        host.setBlockingHandler(SOURCE, s -> {
            byte[] chunk = new byte[64 * 1024];
            try (OutputStream out = s.outputStream()) {
                for (long sent = 0; sent < total; sent += chunk.length) {
                    out.write(chunk, 0, (int) Math.min(chunk.length, total - sent));
                }
            }
        });
    }

    /** The loopback TCP port a host listens on (its first listen address). */
    static int tcpPort(Host host) {
        return Integer.parseInt(host.listenAddrs().get(0).valueOf(MultiaddrProtocol.TCP).orElseThrow());
    }

    /** B serves {@code mib} MiB; A dials B through the emulated link and reads them on one stream. */
    Result transfer(YamuxConfig receiverConfig) throws Exception {
        long total = (long) mib << 20;
        try (Host b = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .build().start();
                Host a = Host.builder(Ed25519PrivateKey.generate()).yamux(receiverConfig).build().start()) {
            serveSource(b, total);
            InetSocketAddress target = new InetSocketAddress("127.0.0.1", tcpPort(b));
            try (UplinkEmulator link = UplinkEmulator.start(new InetSocketAddress("127.0.0.1", 0), target,
                    (long) (mbps * 1e6), Duration.ofMillis(rttMs))) {
                Multiaddr via = Multiaddr.parse("/ip4/127.0.0.1/tcp/" + link.address().getPort() + "/p2p/"
                        + b.peerId().toBase58());
                Connection c = a.connect(via).get(30, TimeUnit.SECONDS);
                P2pStream s = c.newStream(List.of(SOURCE)).get(30, TimeUnit.SECONDS);
                byte[] buf = new byte[256 * 1024];
                long got = 0;
                long t0 = System.nanoTime();
                long tHalf = 0;
                try (InputStream in = s.inputStream()) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        got += n;
                        if (tHalf == 0 && got >= total / 2) {
                            tHalf = System.nanoTime();
                        }
                    }
                }
                long t1 = System.nanoTime();
                int window = ((YamuxStreamChannel) s.channel()).receiveWindow();
                return new Result(got, (t1 - t0) / 1e9, (t1 - tHalf) / 1e9, window);
            }
        }
    }
}
