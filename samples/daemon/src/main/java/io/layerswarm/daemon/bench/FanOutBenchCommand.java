package io.layerswarm.daemon.bench;

import io.layerswarm.daemon.demo.FanOut;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code layerswarm bench-fanout --layout DIR}: one image behind an emulated uplink, deployed to N
 * nodes through the swarm and with every node pulling straight from the origin; prints a Markdown
 * table of time to all-nodes-done and registry bytes against the lower bound S/B.
 */
@Command(name = "bench-fanout", mixinStandardHelpOptions = true,
        description = "Benchmark: fan one image out to N nodes through the swarm vs straight from the origin.")
public final class FanOutBenchCommand implements Callable<Integer> {
    @Option(names = "--layout", required = true, paramLabel = "DIR", description = "OCI layout of the image (its first tag is used).")
    Path layout;

    @Option(names = "--nodes", split = ",", defaultValue = "2,4,8", description = "Node counts (default: ${DEFAULT-VALUE}).")
    List<Integer> nodes;

    @Mixin
    UplinkOptions uplink;

    @Option(names = "--piece-kib", defaultValue = "1024", description = "Swarm piece size in KiB (default: ${DEFAULT-VALUE}).")
    int pieceKib;

    @Option(names = "--claim-wait-ms", defaultValue = "3000",
            description = "Longest a new download waits for peers to answer its claim (default: ${DEFAULT-VALUE}, the library default).")
    long claimWaitMs;

    @Option(names = "--unpack", description = "Also unpack every rootfs (CPU-bound on small machines; off by default).")
    boolean unpack;

    @Option(names = "--processes", description = "Run every swarm node as its own JVM instead of in this process.")
    boolean processes;

    @Option(names = "--runs", defaultValue = "1", description = "Repeat every row this many times (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--modes", split = ",", defaultValue = "swarm,direct",
            description = "Modes to run: swarm, direct (default: ${DEFAULT-VALUE}).")
    List<String> modes;

    @Override
    public Integer call() {
        return BenchErrors.report(this::bench);
    }

    private int bench() throws Exception {
        if (nodes.stream().anyMatch(n -> n < 1 || n > 32) || uplink.mbps <= 0 || uplink.latencyMs < 0 || runs < 1
                || runs > 100
                || modes.isEmpty() || !List.of("swarm", "direct").containsAll(modes)) {
            System.err.println("error: --nodes in 1..32, --uplink-mbps > 0, --uplink-latency-ms >= 0, --runs in 1..100,"
                    + " --modes of swarm,direct");
            return 1;
        }
        Path work = Files.createTempDirectory("layerswarm-bench");
        try (FanOut.Origin origin = FanOut.Origin.start(layout, "bench", uplink.bitsPerSecond(),
                Duration.ofMillis(uplink.latencyMs))) {
            long s = origin.imageBlobBytes();
            double bound = s * 8 / (uplink.mbps * 1e6);
            System.out.printf("image %s:%s, S = %d bytes (%.1f MiB), uplink B = %.0f Mbit/s +%d ms RTT, S/B = %.2f s, "
                    + "piece %d KiB, claim wait %d ms, unpack %s, swarm nodes %s%n%n", layout.getFileName(), origin.tag, s,
                    s / 1048576.0, uplink.mbps, uplink.latencyMs, bound, pieceKib, claimWaitMs, unpack,
                    processes ? "in separate processes" : "in this process");
            System.out.println("| N | mode | all nodes done (s) | x S/B | registry bytes | x S |");
            System.out.println("| --- | --- | ---: | ---: | ---: | ---: |");
            for (int n : nodes) {
                for (int run = 0; run < runs; run++) {
                    for (String mode : modes) {
                        Path dir = work.resolve(mode + n + "-" + run);
                        FanOut.Report r = mode.equals("direct") ? FanOut.direct(origin, n, dir, unpack)
                                : processes ? FanOut.throughSwarmProcesses(origin, n, dir, pieceKib * 1024,
                                        Duration.ofMillis(claimWaitMs), unpack)
                                : FanOut.throughSwarm(origin, n, dir, pieceKib * 1024, Duration.ofMillis(claimWaitMs),
                                        unpack);
                        row(n, mode, r, s, bound);
                        if (!r.identicalRootfs()) {
                            System.err.println("error: nodes ended with different content at N=" + n);
                            return 3;
                        }
                        FanOut.deleteTree(dir);
                    }
                }
            }
            return 0;
        } finally {
            FanOut.deleteTree(work);
        }
    }

    private static void row(int n, String mode, FanOut.Report r, long s, double bound) {
        double secs = r.allDone().toNanos() / 1e9;
        System.out.printf("| %d | %s | %.2f | %.2f | %d | %.3f |%n", n, mode, secs, secs / bound, r.originBlobBytes(),
                r.originBlobBytes() / (double) s);
        System.out.flush();
    }
}
