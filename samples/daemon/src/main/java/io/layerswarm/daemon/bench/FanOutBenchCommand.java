package io.layerswarm.daemon.bench;

import io.layerswarm.daemon.demo.FanOut;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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

    @Option(names = "--uplink-mbps", defaultValue = "100", description = "Origin uplink in Mbit/s (default: ${DEFAULT-VALUE}).")
    double mbps;

    @Option(names = "--uplink-latency-ms", defaultValue = "50", description = "Added round-trip time (default: ${DEFAULT-VALUE}).")
    long latencyMs;

    @Option(names = "--piece-kib", defaultValue = "1024", description = "Swarm piece size in KiB (default: ${DEFAULT-VALUE}).")
    int pieceKib;

    @Option(names = "--origin-grace-ms", defaultValue = "300", description = "Swarm origin grace (default: ${DEFAULT-VALUE}, the library default).")
    long graceMs;

    @Option(names = "--unpack", description = "Also unpack every rootfs (CPU-bound on small machines; off by default).")
    boolean unpack;

    @Override
    public Integer call() {
        try {
            return bench();
        } catch (Exception e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            System.err.println("error: " + msg.replaceAll("\\s+", " "));
            return 1;
        }
    }

    private int bench() throws Exception {
        if (nodes.stream().anyMatch(n -> n < 1 || n > 32) || mbps <= 0 || latencyMs < 0) {
            System.err.println("error: --nodes in 1..32, --uplink-mbps > 0, --uplink-latency-ms >= 0");
            return 1;
        }
        Path work = Files.createTempDirectory("layerswarm-bench");
        try (FanOut.Origin origin = FanOut.Origin.start(layout, "bench", (long) (mbps * 1e6), Duration.ofMillis(latencyMs))) {
            long s = origin.imageBlobBytes();
            double bound = s * 8 / (mbps * 1e6);
            System.out.printf("image %s:%s, S = %d bytes (%.1f MiB), uplink B = %.0f Mbit/s +%d ms RTT, S/B = %.2f s, "
                    + "piece %d KiB, origin grace %d ms, unpack %s%n%n", layout.getFileName(), origin.tag, s, s / 1048576.0,
                    mbps, latencyMs, bound, pieceKib, graceMs, unpack);
            System.out.println("| N | mode | all nodes done (s) | x S/B | registry bytes | x S |");
            System.out.println("| --- | --- | ---: | ---: | ---: | ---: |");
            for (int n : nodes) {
                FanOut.Report swarm = FanOut.throughSwarm(origin, n, work.resolve("swarm" + n), pieceKib * 1024,
                        Duration.ofMillis(graceMs), unpack);
                row(n, "swarm", swarm, s, bound);
                FanOut.Report direct = FanOut.direct(origin, n, work.resolve("direct" + n), unpack);
                row(n, "direct", direct, s, bound);
                if (!swarm.identicalRootfs() || !direct.identicalRootfs()) {
                    System.err.println("error: nodes ended with different content at N=" + n);
                    return 3;
                }
                FanOut.deleteTree(work.resolve("swarm" + n));
                FanOut.deleteTree(work.resolve("direct" + n));
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
