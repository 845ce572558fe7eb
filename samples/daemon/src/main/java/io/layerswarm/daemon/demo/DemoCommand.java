package io.layerswarm.daemon.demo;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code layerswarm demo}: an embedded origin registry behind an emulated slow uplink, N in-process
 * swarm nodes on loopback, the bundled image deployed to all of them at once, and a table of where
 * each node's bytes came from.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Deploy the bundled image to N local swarm nodes at once behind an emulated slow uplink.")
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--nodes", defaultValue = "4", description = "Number of nodes (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--uplink-mbps", defaultValue = "20", description = "Origin uplink bandwidth in Mbit/s (default: ${DEFAULT-VALUE}).")
    double uplinkMbps;

    @Option(names = "--uplink-latency-ms", defaultValue = "40", description = "Round-trip time added by the uplink (default: ${DEFAULT-VALUE}).")
    long latencyMs;

    @Option(names = "--piece-kib", defaultValue = "256", description = "Swarm piece size in KiB (the swarm uses at least 256; default: ${DEFAULT-VALUE}).")
    int pieceKib;

    @Option(names = "--claim-wait-ms", defaultValue = "3000",
            description = "Longest a node's new download waits for its connected peers to answer its claim before it "
                    + "uses the origin; it goes on as soon as all answered (default: ${DEFAULT-VALUE}).")
    long claimWaitMs;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Keep stores, layouts and rootfs here (default: a temp dir, deleted).")
    Path workDir;

    @Override
    public Integer call() {
        try {
            return run(System.out);
        } catch (Exception e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            System.err.println("error: " + msg.replaceAll("\\s+", " "));
            return 1;
        }
    }

    private int run(PrintStream out) throws Exception {
        if (nodes < 1 || nodes > 32) {
            throw new IllegalArgumentException("--nodes must be in 1..32");
        }
        if (uplinkMbps <= 0 || latencyMs < 0 || claimWaitMs < 0 || pieceKib < 16 || pieceKib > 16384) {
            throw new IllegalArgumentException("--uplink-mbps must be > 0, --uplink-latency-ms >= 0, --claim-wait-ms >= 0, --piece-kib in 16..16384");
        }
        boolean temp = workDir == null;
        Path dir = temp ? Files.createTempDirectory("layerswarm-demo") : Files.createDirectories(workDir);
        try {
            Path layout = DemoImage.extractTo(dir.resolve("origin-layout"));
            try (FanOut.Origin origin = FanOut.Origin.start(layout, "demo-httpd", (long) (uplinkMbps * 1e6),
                    Duration.ofMillis(latencyMs))) {
                long image = origin.imageBlobBytes();
                out.printf("LayerSwarm demo: image %s:%s (%s of blobs), origin behind %.0f Mbit/s +%d ms RTT, %d nodes%n",
                        origin.repository, origin.tag, size(image), uplinkMbps, latencyMs, nodes);
                out.println("baseline: one node pulling straight from the origin ...");
                FanOut.Report single = FanOut.direct(origin, 1, dir.resolve("baseline"));
                out.printf("  %.2f s, %s from the origin%n", secs(single.allDone()), size(single.originBlobBytes()));
                out.printf("swarm: %d nodes deploying at once, each through its own pull-through mirror ...%n", nodes);
                FanOut.Report swarm = FanOut.throughSwarm(origin, nodes, dir.resolve("swarm"), pieceKib * 1024,
                        Duration.ofMillis(claimWaitMs), true);
                print(out, swarm, single, image, uplinkMbps * 1e6);
                boolean same = swarm.identicalRootfs() && swarm.nodes().get(0).rootfs().equals(single.nodes().get(0).rootfs());
                return same ? 0 : 3;
            }
        } finally {
            if (temp) {
                FanOut.deleteTree(dir);
            }
        }
    }

    static void print(PrintStream out, FanOut.Report swarm, FanOut.Report single, long image, double uplinkBps) {
        out.println();
        out.printf("%-8s %9s %14s %14s  %s%n", "node", "time", "from peers", "from origin", "rootfs");
        long peers = 0;
        long origin = 0;
        for (FanOut.NodeReport n : swarm.nodes()) {
            out.printf("%-8s %8.2fs %14s %14s  sha256:%s (%d entries)%n", n.name(), secs(n.elapsed()),
                    size(n.peerBytes()), size(n.originBytes()), n.rootfs().sha256().substring(0, 16), n.rootfs().entries());
            peers += n.peerBytes();
            origin += n.originBytes();
        }
        out.printf("%-8s %8.2fs %14s %14s%n", "total", secs(swarm.allDone()), size(peers), size(origin));
        out.println();
        int n = swarm.nodes().size();
        out.printf("origin sent %s of blobs for %d nodes = %.2fx the image (%s); without the swarm: %.0fx%n",
                size(swarm.originBlobBytes()), n, swarm.originBlobBytes() / (double) image, size(image), (double) n);
        out.printf("all %d nodes done in %.2f s = %.2fx the time of one node pulling straight from the origin (%.2f s)%n",
                n, secs(swarm.allDone()), secs(swarm.allDone()) / Math.max(1e-3, secs(single.allDone())),
                secs(single.allDone()));
        double bound = image * 8 / uplinkBps;
        out.printf("uplink lower bounds: the image once S/B = %.2f s; %d nodes pulling straight N*S/B = %.2f s%n", bound,
                n, n * bound);
        boolean same = swarm.identicalRootfs() && swarm.nodes().get(0).rootfs().equals(single.nodes().get(0).rootfs());
        out.println(same ? "rootfs: identical on every node (and equal to the direct pull)"
                : "rootfs: DIFFERENT between nodes -- see the table");
    }

    private static double secs(Duration d) {
        return d.toNanos() / 1e9;
    }

    static String size(long bytes) {
        return bytes >= 1 << 20 ? String.format("%.2f MiB", bytes / 1048576.0)
                : bytes >= 1024 ? String.format("%.1f KiB", bytes / 1024.0) : bytes + " B";
    }
}
