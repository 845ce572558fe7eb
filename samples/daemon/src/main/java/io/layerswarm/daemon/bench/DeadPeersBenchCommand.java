package io.layerswarm.daemon.bench;

import io.layerswarm.daemon.demo.FanOut;
import io.layerswarm.daemon.demo.NodeChild;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code layerswarm bench-deadpeers}: what losing half the holders mid-pull costs a pull. H holder
 * processes hold a large single-layer image, each with its uploads capped so a pull lasts seconds; a
 * fresh in-process node pulls from all of them and, once a set fraction of the layer has arrived,
 * half the holders are killed (SIGKILL: their connections are reset) or frozen (SIGSTOP: their
 * sockets stay open and answer nothing). The baseline is the same pull from the surviving holders
 * only. Prints one line per run and a summary of the added time (loss minus baseline) per mode.
 */
@Command(name = "bench-deadpeers", mixinStandardHelpOptions = true,
        description = "Benchmark: pull time added when half the holders die or freeze mid-pull.")
public final class DeadPeersBenchCommand implements Callable<Integer> {
    @Option(names = "--layout", paramLabel = "DIR",
            description = "OCI layout of the image (its first tag is used); default: a generated single-layer image.")
    Path layout;

    @Option(names = "--layer-mib", defaultValue = "64", description = "Size of the generated layer in MiB (default: ${DEFAULT-VALUE}).")
    int layerMib;

    @Option(names = "--holders", defaultValue = "4", description = "Holders at the start, even; half are lost (default: ${DEFAULT-VALUE}).")
    int holders;

    @Option(names = "--max-upload-rate-mib", defaultValue = "8",
            description = "Upload cap of each holder in MiB/s (default: ${DEFAULT-VALUE}).")
    int uploadMib;

    @Option(names = "--lose-at-percent", defaultValue = "30",
            description = "Lose the holders once this share of the layer arrived (default: ${DEFAULT-VALUE}).")
    int loseAtPercent;

    @Option(names = "--modes", split = ",", defaultValue = "kill,freeze", description = "kill, freeze (default: ${DEFAULT-VALUE}).")
    List<String> modes;

    @Option(names = "--runs", defaultValue = "20", description = "Runs per mode (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--warmup-runs", defaultValue = "1",
            description = "Runs per mode before the counted ones, printed but not in the summary: the first pulls of a"
                    + " cold JVM are slower (default: ${DEFAULT-VALUE}).")
    int warmupRuns;

    @Option(names = "--piece-kib", defaultValue = "1024", description = "Swarm piece size in KiB (default: ${DEFAULT-VALUE}).")
    int pieceKib;

    @Mixin
    UplinkOptions uplink;

    @Override
    public Integer call() {
        return BenchErrors.report(this::bench);
    }

    private int bench() throws Exception {
        if (holders < 2 || holders > 16 || holders % 2 != 0 || runs < 1 || runs > 200 || warmupRuns < 0 || warmupRuns > 20
                || layerMib < 1 || layerMib > 1024
                || uploadMib < 1 || loseAtPercent < 1 || loseAtPercent > 95 || modes.isEmpty()
                || !List.of("kill", "freeze").containsAll(modes)) {
            System.err.println("error: --holders even in 2..16, --runs in 1..200, --warmup-runs in 0..20, --layer-mib in 1..1024,"
                    + " --max-upload-rate-mib >= 1, --lose-at-percent in 1..95, --modes of kill,freeze");
            return 1;
        }
        Path work = Files.createTempDirectory("layerswarm-deadpeers");
        try {
            Path image = layout != null ? layout : GeneratedImage.write(work.resolve("image"), layerMib * 1024 * 1024);
            try (FanOut.Origin origin = FanOut.Origin.start(image, "bench", uplink.bitsPerSecond(),
                    Duration.ofMillis(uplink.latencyMs));
                 HolderSet survivors = HolderSet.start(origin, work.resolve("survivors"), "survivor", holders / 2,
                         pieceKib, uploadMib)) {
                System.out.printf("image %s, %d blob bytes; %d holders at %d MiB/s upload each, %d lost at %d%%;"
                        + " registry %.0f Mbit/s +%d ms; piece %d KiB%n", layout == null ? "generated" : image,
                        origin.imageBlobBytes(), holders, uploadMib, holders / 2, loseAtPercent, uplink.mbps, uplink.latencyMs,
                        pieceKib);
                for (String mode : modes) {
                    runMode(mode, origin, survivors, work.resolve(mode));
                }
            }
            return 0;
        } finally {
            FanOut.deleteTree(work);
        }
    }

    private void runMode(String mode, FanOut.Origin origin, HolderSet survivors, Path dir) throws Exception {
        long[] added = new long[runs];
        long[] baseline = new long[runs];
        long registry = 0;
        for (int run = -warmupRuns; run < runs; run++) {
            Path runDir = dir.resolve("run" + (run + warmupRuns));
            TimedPull.Result loss;
            try (HolderSet lost = HolderSet.start(origin, runDir.resolve("lost"), "lost", holders / 2, pieceKib,
                    uploadMib)) {
                List<Multiaddr> all = new ArrayList<>(survivors.addresses());
                all.addAll(lost.addresses());
                loss = TimedPull.run(origin, runDir.resolve("puller"), pieceKib * 1024, all, loseAtPercent / 100.0,
                        mode.equals("kill") ? lost::killAll : lost::freezeAll);
            }
            TimedPull.Result base = TimedPull.run(origin, runDir.resolve("baseline"), pieceKib * 1024,
                    survivors.addresses(), 0, null);
            long baseMs = base.elapsed().toMillis();
            long addedMs = loss.elapsed().toMillis() - baseMs;
            if (run >= 0) {
                baseline[run] = baseMs;
                added[run] = addedMs;
                registry += loss.registryBytes() + base.registryBytes();
            }
            System.out.printf("%s mode=%s run=%d lost_at_ms=%s pull_ms=%d baseline_ms=%d added_ms=%d registry_bytes=%d"
                    + " baseline_registry_bytes=%d%n", run < 0 ? "warmup" : "run", mode,
                    run < 0 ? run + warmupRuns + 1 : run + 1,
                    loss.actionAt() == null ? "never" : String.valueOf(loss.actionAt().toMillis()),
                    loss.elapsed().toMillis(), baseMs, addedMs, loss.registryBytes(), base.registryBytes());
            System.out.flush();
            FanOut.deleteTree(runDir);
        }
        System.out.printf("summary mode=%s runs=%d warmup_runs=%d added_ms p50=%d p99=%d max=%d baseline_ms p50=%d"
                + " registry_bytes=%d%n", mode, runs, warmupRuns, percentile(added, 50), percentile(added, 99),
                Arrays.stream(added).max().orElse(0),
                percentile(baseline, 50), registry);
        System.out.flush();
    }

    /** Nearest-rank percentile (with 20 runs, p99 is the largest value). */
    static long percentile(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    /** Holder processes started together; closing ends those still running. */
    static final class HolderSet implements AutoCloseable {
        private final List<NodeChild> children;
        private final List<Multiaddr> addresses;

        private HolderSet(List<NodeChild> children, List<Multiaddr> addresses) {
            this.children = children;
            this.addresses = addresses;
        }

        /** Starts {@code n} holders, each seeded straight from the registry (not through the uplink). */
        static HolderSet start(FanOut.Origin origin, Path dir, String name, int n, int pieceKib, int uploadMib)
                throws IOException, InterruptedException {
            List<NodeChild> children = new ArrayList<>();
            HolderSet set = new HolderSet(children, new ArrayList<>());
            try {
                Files.createDirectories(dir);
                for (int i = 0; i < n; i++) {
                    Path d = Files.createDirectories(dir.resolve(name + i));
                    children.add(NodeChild.launch(name + i, d.resolve("stderr.log"), HolderProcess.class,
                            d.resolve("store").toString(), origin.directUrl().toString(), origin.repository, origin.tag,
                            String.valueOf(pieceKib), String.valueOf(uploadMib * 1024L * 1024L)));
                }
                for (NodeChild c : children) {
                    set.addresses.add(Multiaddr.parse(c.expect("addr ").substring(5)));
                }
                return set;
            } catch (IOException | InterruptedException | RuntimeException e) {
                set.close();
                throw e;
            }
        }

        List<Multiaddr> addresses() {
            return List.copyOf(addresses);
        }

        void killAll() {
            children.forEach(NodeChild::kill);
        }

        void freezeAll() throws IOException, InterruptedException {
            for (NodeChild c : children) {
                c.freeze();
            }
        }

        @Override
        public void close() throws InterruptedException {
            for (NodeChild c : children) {
                c.close();
            }
        }
    }
}
