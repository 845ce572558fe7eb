package io.layerswarm.daemon.bench;

import io.layerswarm.daemon.demo.UplinkEmulator;
import io.layerswarm.libp2p.bandwidth.BandwidthLimiter;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code layerswarm bench-ratelimit}: the node-wide bandwidth limits against a shaped link
 * ({@link UplinkEmulator}: one token bucket for the link, added round-trip time). Upload: one seeder
 * behind the link serves several peers at once, without a limit and with limits below the link rate;
 * the peers' total must follow the limit, not the number of peers. Download: one peer fetches from
 * several seeders, each behind its own link, with and without a download limit.
 */
@Command(name = "bench-ratelimit", mixinStandardHelpOptions = true,
        description = "Benchmark: node-wide upload/download limits across several peers over shaped links.")
public final class RateLimitBenchCommand implements Callable<Integer> {
    @Option(names = "--link-mbps", defaultValue = "100", description = "Shaped link rate, Mbit/s (default: ${DEFAULT-VALUE}).")
    double linkMbps;

    @Option(names = "--rtt-ms", defaultValue = "10", description = "Added round-trip time (default: ${DEFAULT-VALUE}).")
    long rttMs;

    @Option(names = "--peers", defaultValue = "3", description = "Peers (upload) or seeders (download) (default: ${DEFAULT-VALUE}).")
    int peers;

    @Option(names = "--mib", defaultValue = "16", description = "MiB per peer stream (default: ${DEFAULT-VALUE}).")
    int mib;

    @Option(names = "--limits-mbps", split = ",", defaultValue = "0,20,50",
            description = "Limits to try, Mbit/s, 0 = none (default: ${DEFAULT-VALUE}).")
    List<Double> limits;

    @Override
    public Integer call() throws Exception {
        if (linkMbps <= 0 || rttMs < 0 || peers < 1 || peers > 16 || mib < 1 || mib > 1024
                || limits.stream().anyMatch(l -> l < 0)) {
            System.err.println("error: --link-mbps > 0, --rtt-ms >= 0, --peers in 1..16, --mib in 1..1024, limits >= 0");
            return 1;
        }
        System.out.printf(Locale.ROOT, "shaped link %.0f Mbit/s +%d ms RTT per seeder, %d peers x %d MiB, TLS + Yamux%n%n",
                linkMbps, rttMs, peers, mib);
        System.out.println("| direction | limit (Mbit/s) | goodput, all peers (Mbit/s) | wire rate at the limiter (Mbit/s) "
                + "| of limit | slowest peer (Mbit/s) | fastest peer (Mbit/s) |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        boolean ok = true;
        for (boolean upload : List.of(true, false)) {
            for (double limit : limits) {
                Result r = upload ? upload(limit) : download(limit);
                ok &= r.bytes == (long) peers * mib << 20;
                System.out.printf(Locale.ROOT, "| %s | %s | %.1f | %s | %s | %.1f | %.1f |%n", upload ? "upload" : "download",
                        limit == 0 ? "none" : String.format(Locale.ROOT, "%.0f", limit), r.bytes * 8 / r.seconds / 1e6,
                        r.wireBytes < 0 ? "-" : String.format(Locale.ROOT, "%.1f", r.wireBytes * 8 / r.seconds / 1e6),
                        limit == 0 ? "-" : String.format(Locale.ROOT, "%.0f %%", 100 * r.bytes * 8 / r.seconds / 1e6 / limit),
                        r.slowestMbps, r.fastestMbps);
            }
        }
        return ok ? 0 : 3;
    }

    record Result(long bytes, long wireBytes, double seconds, double slowestMbps, double fastestMbps) {
    }

    private static BandwidthLimiter limiter(double mbps) {
        return mbps == 0 ? null : BandwidthLimiter.of((long) (mbps * 1e6 / 8));
    }

    private static Host host(BandwidthLimiter up, BandwidthLimiter down) throws Exception {
        return Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .bandwidth(up, down).build().start();
    }

    /** One seeder with the upload limit behind one shaped link; every peer reads from it at once. */
    Result upload(double limitMbps) throws Exception {
        BandwidthLimiter up = limiter(limitMbps);
        List<AutoCloseable> open = new ArrayList<>();
        try {
            Multiaddr seeder = shapedSeeder(up, open);
            List<Host> readers = new ArrayList<>();
            for (int i = 0; i < peers; i++) {
                readers.add(track(host(null, null), open));
            }
            return measure(up, readers, java.util.Collections.nCopies(peers, seeder));
        } finally {
            closeAll(open);
        }
    }

    /** One peer with the download limit reads from every seeder at once, each behind its own shaped link. */
    Result download(double limitMbps) throws Exception {
        BandwidthLimiter down = limiter(limitMbps);
        List<AutoCloseable> open = new ArrayList<>();
        try {
            Host reader = track(host(null, down), open);
            List<Multiaddr> seeders = new ArrayList<>();
            for (int i = 0; i < peers; i++) {
                seeders.add(shapedSeeder(null, open));
            }
            return measure(down, java.util.Collections.nCopies(peers, reader), seeders);
        } finally {
            closeAll(open);
        }
    }

    private static <T extends AutoCloseable> T track(T c, List<AutoCloseable> open) {
        open.add(c);
        return c;
    }

    /** A seeder serving {@code mib} MiB per stream behind a shaped link; its address through the link. */
    private Multiaddr shapedSeeder(BandwidthLimiter up, List<AutoCloseable> open) throws Exception {
        Host seeder = track(host(up, null), open);
        LinkBenchCommand.serveSource(seeder, (long) mib << 20);
        UplinkEmulator link = track(UplinkEmulator.start(new InetSocketAddress("127.0.0.1", 0),
                new InetSocketAddress("127.0.0.1", LinkBenchCommand.tcpPort(seeder)), (long) (linkMbps * 1e6),
                Duration.ofMillis(rttMs)), open);
        return viaLink(link, seeder);
    }

    /** Runs the reads and adds the bytes the limiter (if any) counted meanwhile. */
    private static Result measure(BandwidthLimiter limiter, List<Host> readers, List<Multiaddr> targets)
            throws Exception {
        long wire0 = limiter == null ? 0 : limiter.bytes();
        Result r = readAll(readers, targets);
        return new Result(r.bytes, limiter == null ? -1 : limiter.bytes() - wire0, r.seconds, r.slowestMbps,
                r.fastestMbps);
    }

    private static Multiaddr viaLink(UplinkEmulator link, Host seeder) {
        return Multiaddr.parse("/ip4/127.0.0.1/tcp/" + link.address().getPort() + "/p2p/" + seeder.peerId().toBase58());
    }

    /** Reader {@code i} dials {@code targets.get(i)} and reads one source stream; all run at once. */
    private static Result readAll(List<Host> readers, List<Multiaddr> targets) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(readers.size());
        try {
            List<P2pStream> streams = new ArrayList<>();
            for (int i = 0; i < readers.size(); i++) {
                streams.add(readers.get(i).connect(targets.get(i)).thenCompose(c -> c.newStream(
                        List.of(LinkBenchCommand.SOURCE))).get(30, TimeUnit.SECONDS));
            }
            long t0 = System.nanoTime();
            List<CompletableFuture<long[]>> done = new ArrayList<>();
            for (P2pStream s : streams) {
                done.add(CompletableFuture.supplyAsync(() -> {
                    byte[] buf = new byte[256 * 1024];
                    long got = 0;
                    try (InputStream in = s.inputStream()) {
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            got += n;
                        }
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    return new long[] {got, System.nanoTime() - t0};
                }, pool));
            }
            long total = 0;
            long last = 0;
            double slowest = Double.MAX_VALUE;
            double fastest = 0;
            for (CompletableFuture<long[]> f : done) {
                long[] r = f.get(30, TimeUnit.MINUTES);
                total += r[0];
                last = Math.max(last, r[1]);
                double mbps = r[0] * 8 / (r[1] / 1e9) / 1e6;
                slowest = Math.min(slowest, mbps);
                fastest = Math.max(fastest, mbps);
            }
            return new Result(total, -1, last / 1e9, slowest, fastest);
        } finally {
            pool.shutdownNow();
        }
    }

    private static void closeAll(List<AutoCloseable> open) {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                // benchmark teardown
            }
        }
    }
}
