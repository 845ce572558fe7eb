package io.layerswarm.daemon.bench;

import io.layerswarm.testing.Containerd;
import io.layerswarm.testing.Corpus;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The containerd fan-out benchmark of issue 16: N containerd instances pull one corpus image at once,
 * (a) straight from the registry and (b) each through its own {@code layerswarm node} mirror, the
 * registry (the real docker-registry on loopback) reachable only through an emulated uplink
 * ({@link UplinkedRegistry}: one token bucket for all connections, added round trip). Node processes
 * start through the launcher script, so their memory figures are those of its JVM defaults.
 * Everything it starts is stopped and deleted at the end, also on failure or SIGTERM.
 *
 * <p>Run by {@code scripts/bench/containerd-fanout.sh}.
 */
@Command(name = "containerd-fanout", mixinStandardHelpOptions = true,
        description = "N containerd instances pull one image at once: direct from the registry vs through N node mirrors.")
public final class ContainerdFanOutBench implements Callable<Integer> {
    private static final double MIB = 1024.0 * 1024.0;

    @Option(names = "--corpus", required = true, paramLabel = "DIR", description = "Corpus directory (with corpus.json).")
    Path corpusDir;

    @Option(names = "--image", defaultValue = "nginx:1.22", description = "Image of the corpus (default: ${DEFAULT-VALUE}).")
    String imageRef;

    @Option(names = "--instances", defaultValue = "4", description = "containerd instances / nodes (default: ${DEFAULT-VALUE}).")
    int instances;

    @Mixin
    UplinkOptions uplink = new UplinkOptions();

    @Option(names = "--warmup", description = "Before the measured pull, every containerd pulls the small corpus's"
            + " largest image the same way (not timed), so the nodes' JVMs are warm, as on a long-running node.")
    boolean warmup;

    @Option(names = "--warmup-image", paramLabel = "NAME:TAG", description = "Like --warmup, but the warm-up pull is this"
            + " image of --corpus (e.g. one as large as the measured image, so the nodes' JIT has compiled the paths a"
            + " pull of that size takes).")
    String warmupImage;

    @Option(names = "--node-arg", description = "An extra flag for every `layerswarm node` (repeatable), e.g."
            + " --node-arg=--max-uploads=6.")
    List<String> nodeArgs = new ArrayList<>();

    /** Registry blob bytes when the measured pull starts (after any warm-up). */
    private long registryBefore;
    private UplinkedRegistry registry;
    private String warmRef;

    @Option(names = "--rounds", defaultValue = "1", description = "Repetitions of both modes (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--modes", split = ",", defaultValue = "direct,swarm", description = "Modes in order (default: ${DEFAULT-VALUE}).")
    List<String> modes;

    @Option(names = "--nmt", description = "Also print node 0's native memory by category at its peak (JVM Native Memory Tracking).")
    boolean nmt;

    @Mixin
    LauncherRunOptions launch = new LauncherRunOptions();

    /** What this run started; set by {@link #call()}. */
    private BenchResources res;

    /** Per instance: what one containerd's pull took. */
    private record InstanceResult(int instance, Duration fetched, Duration total) {
    }

    /** Memory of one node process, from /proc: settled RSS before the pull, VmHWM, RSS after. */
    private record Memory(long idleKib, long peakKib, long afterKib, long anonKib, long fileKib) {
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ContainerdFanOutBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (instances < 1 || instances > 16 || uplink.mbps <= 0 || uplink.latencyMs < 0 || rounds < 1
                || !modes.stream().allMatch(m -> m.equals("direct") || m.equals("swarm"))) {
            System.err.println("error: --instances in 1..16, --uplink-mbps > 0, --uplink-latency-ms >= 0, --rounds >= 1,"
                    + " --modes of direct,swarm");
            return 2;
        }
        res = new BenchResources(launch.work, "bench");
        return res.run(this::bench);
    }

    private int bench() throws Exception {
        Corpus.Image image = corpusImage(imageRef);
        Corpus.Image warm = warmupImage == null ? null : corpusImage(warmupImage);
        if (warm != null) {
            // a shared layer would be in every cache before the measured pull
            Set<String> measured = image.layers().stream().map(Corpus.Layer::digest).collect(Collectors.toSet());
            if (warm.layers().stream().map(Corpus.Layer::digest).anyMatch(measured::contains)) {
                throw new IllegalArgumentException("--warmup-image " + warmupImage + " shares a layer with " + imageRef);
            }
        }
        long size = image.layers().stream().mapToLong(Corpus.Layer::size).sum()
                + Files.size(image.blob(image.configDigest()));
        Files.createDirectories(launch.work);

        registry = UplinkedRegistry.start(uplink.mbps, Duration.ofMillis(uplink.latencyMs));
        res.add(registry);
        push(image);
        String upstreamHost = registry.host();
        String ref = upstreamHost + "/" + image.ref();
        if (warm != null) {
            push(warm);
            warmRef = upstreamHost + "/" + warm.ref();
        } else if (warmup) {
            Corpus.Image small = Corpus.small().largest();
            Corpus.small().pushTo(registry.directUrl());
            warmRef = upstreamHost + "/" + small.ref();
        }
        double bound = size * 8 / (uplink.mbps * 1e6);

        System.out.printf(Locale.ROOT, "image %s, S = %d bytes (%.1f MiB), uplink B = %.0f Mbit/s +%d ms RTT, S/B = %.2f s,"
                + " %d containerd instances, launcher %s, warm-up pull: %s, LAYERSWARM_JAVA_OPTS=%s%n%n", image.ref(), size,
                size / MIB, uplink.mbps, uplink.latencyMs, bound, instances, launch.launcher, warmRef == null ? "none" : warmRef, System.getenv().getOrDefault("LAYERSWARM_JAVA_OPTS", "(unset)"));
        List<String> summary = new ArrayList<>();
        summary.add("| mode | all fetched (s) | x S/B | all pulled+unpacked (s) | x S/B | registry blob bytes | x S"
                + " | node RSS idle min-max (MiB) | node RSS peak min-max (MiB) |");
        summary.add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        System.out.println("| round | mode | instance | fetched (s) | pulled+unpacked (s) |");
        System.out.println("| ---: | --- | ---: | ---: | ---: |");
        for (int round = 1; round <= rounds; round++) {
            for (String mode : modes) {
                Path dir = Files.createDirectories(launch.work.resolve("r" + round + "-" + mode));
                List<Memory> memory = new ArrayList<>();
                List<InstanceResult> results = mode.equals("swarm")
                        ? throughSwarm(dir, ref, "http://" + upstreamHost, memory)
                        : direct(dir, ref, upstreamHost);
                long sent = registry.blobBytes() - registryBefore;
                for (InstanceResult r : results) {
                    System.out.printf(Locale.ROOT, "| %d | %s | %d | %.2f | %.2f |%n", round, mode, r.instance(),
                            secs(r.fetched()), secs(r.total()));
                }
                double fetched = results.stream().mapToDouble(r -> secs(r.fetched())).max().orElse(0);
                double total = results.stream().mapToDouble(r -> secs(r.total())).max().orElse(0);
                summary.add(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %.2f | %d | %.3f | %s | %s |", mode,
                        fetched, fetched / bound, total, total / bound, sent, sent / (double) size,
                        range(memory, Memory::idleKib), range(memory, Memory::peakKib)));
                if (!memory.isEmpty()) {
                    for (int i = 0; i < memory.size(); i++) {
                        Memory m = memory.get(i);
                        System.out.printf(Locale.ROOT, "  node%d RSS: idle %.1f MiB, peak (VmHWM) %.1f MiB, after %.1f MiB"
                                + " (anonymous %.1f, file-backed %.1f)%n", i, m.idleKib() / 1024.0, m.peakKib() / 1024.0,
                                m.afterKib() / 1024.0, m.anonKib() / 1024.0, m.fileKib() / 1024.0);
                    }
                }
                Containerd.deleteTree(dir);
            }
        }
        System.out.println();
        summary.forEach(System.out::println);
        return 0;
    }

    private List<InstanceResult> direct(Path dir, String ref, String upstreamHost) throws Exception {
        List<Containerd> cs = containerds(dir);
        for (Containerd c : cs) {
            c.mirror(upstreamHost, URI.create("http://" + upstreamHost), List.of());
        }
        return measuredPull(cs, ref);
    }

    private List<InstanceResult> throughSwarm(Path dir, String ref, String upstream, List<Memory> memory)
            throws Exception {
        List<LauncherNode> nodes = new ArrayList<>();
        for (int i = 0; i < instances; i++) {
            List<String> extra = new ArrayList<>(nodeArgs);
            if (i > 0) {
                extra.addAll(List.of("--bootstrap", nodes.get(0).listen));
            }
            LauncherNode n = LauncherNode.start(launch.launcher, "node" + i, dir.resolve("node" + i), upstream, extra,
                    nmt ? Map.of("LAYERSWARM_JAVA_OPTS_EXTRA", "-XX:NativeMemoryTracking=summary") : Map.of(), res.pool());
            res.add(n);
            nodes.add(n);
        }
        for (LauncherNode n : nodes) {
            if (!n.awaitPeers(instances - 1, Duration.ofSeconds(60))) {
                System.out.printf("  warning: %s sees %d of %d peers after 60 s%n", n.name, n.peers(), instances - 1);
            }
        }
        List<Long> idle = new ArrayList<>();
        for (LauncherNode n : nodes) {
            idle.add(settledRss(n.pid()));
        }
        List<Containerd> cs = containerds(dir);
        String host = ref.substring(0, ref.indexOf('/'));
        for (int i = 0; i < instances; i++) {
            cs.get(i).mirror(host, URI.create(upstream), List.of(URI.create("http://" + nodes.get(i).mirror)));
        }
        List<InstanceResult> results = measuredPull(cs, ref);
        for (int i = 0; i < instances; i++) {
            long pid = nodes.get(i).pid();
            memory.add(new Memory(idle.get(i), procStatusKib(pid, "VmHWM:"), procStatusKib(pid, "VmRSS:"),
                    procStatusKib(pid, "RssAnon:"), procStatusKib(pid, "RssFile:")));
            if (nmt && i == 0) {
                printNativeMemory(pid);
            }
            String health = nodes.get(i).health();
            if (!health.isEmpty()) {
                System.out.printf("  warning: %s %s%n", nodes.get(i).name, health);
            }
        }
        for (LauncherNode n : nodes) {
            n.close();
            launch.keepLogs(dir, n);
        }
        return results;
    }

    private List<Containerd> containerds(Path dir) {
        List<Containerd> cs = new ArrayList<>();
        for (int i = 0; i < instances; i++) {
            Containerd c = Containerd.start(dir.resolve("c" + i));
            res.add(c);
            cs.add(c);
        }
        return cs;
    }

    /** Pushes {@code img} straight to the registry (not through the emulated uplink). */
    private void push(Corpus.Image img) throws Exception {
        run(Duration.ofMinutes(5), "skopeo", "copy", "-q", "--dest-tls-verify=false", img.ociReference(),
                "docker://" + URI.create(registry.directUrl()).getAuthority() + "/" + img.ref());
    }

    private Corpus.Image corpusImage(String ref) {
        return Corpus.load(corpusDir).images().stream().filter(i -> i.ref().equals(ref)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no image " + ref + " in " + corpusDir));
    }

    /** The optional warm-up pull, then the measured one; registry bytes are counted from between the two. */
    private List<InstanceResult> measuredPull(List<Containerd> cs, String ref) throws Exception {
        if (warmRef != null) {
            pullAll(cs, warmRef, false);
        }
        registryBefore = registry.blobBytes();
        return pullAll(cs, ref, true);
    }

    /** All instances start their pull at the same moment. */
    private List<InstanceResult> pullAll(List<Containerd> cs, String ref, boolean close) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<InstanceResult>> fs = new ArrayList<>();
        for (int i = 0; i < cs.size(); i++) {
            int n = i;
            Containerd c = cs.get(i);
            fs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                Containerd.Pull p = c.pull(ref, Duration.ofMinutes(10));
                return new InstanceResult(n, p.fetched().orElse(p.total()), p.total());
            }, res.pool()));
        }
        go.countDown();
        List<InstanceResult> out = new ArrayList<>();
        for (CompletableFuture<InstanceResult> f : fs) {
            out.add(f.get(15, TimeUnit.MINUTES));
        }
        if (!close) {
            return out;
        }
        for (Containerd c : cs) {
            res.close(c);
        }
        return out;
    }

    /** {@code jcmd PID VM.native_memory summary}: committed MiB per category. */
    private static void printNativeMemory(long pid) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "VM.native_memory", "summary", "scale=KB")
                    .redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(60, TimeUnit.SECONDS);
            java.util.regex.Matcher m = java.util.regex.Pattern
                    .compile("(?m)^-?\\s*([A-Za-z][A-Za-z ]*?) \\(reserved=\\d+KB, committed=(\\d+)KB\\)").matcher(text);
            List<String> parts = new ArrayList<>();
            while (m.find()) {
                parts.add(String.format(Locale.ROOT, "%s %.1f", m.group(1).trim(), Long.parseLong(m.group(2)) / 1024.0));
            }
            System.out.println("  node0 native memory committed (MiB, NMT): "
                    + (parts.isEmpty() ? text.strip() : String.join(", ", parts)));
        } catch (IOException | InterruptedException e) {
            System.out.println("  node0 native memory: jcmd failed: " + e);
        }
    }

    /** RSS once it has changed by less than 1 MiB over 3 s (at most 30 s): the node at rest. */
    private static long settledRss(long pid) throws InterruptedException {
        List<Long> samples = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            samples.add(procStatusKib(pid, "VmRSS:"));
            int n = samples.size();
            if (n >= 13) {
                List<Long> window = samples.subList(n - 13, n);
                long span = window.stream().mapToLong(Long::longValue).max().orElse(0)
                        - window.stream().mapToLong(Long::longValue).min().orElse(0);
                if (span < 1024 || System.nanoTime() > deadline) {
                    return samples.get(n - 1);
                }
            }
            Thread.sleep(250);
        }
    }

    /** A {@code kB} field of {@code /proc/PID/status}, 0 if the process is gone. */
    static long procStatusKib(long pid, String field) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (l.startsWith(field)) {
                    return Long.parseLong(l.substring(field.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    private static String range(List<Memory> ms, java.util.function.ToLongFunction<Memory> f) {
        if (ms.isEmpty()) {
            return "-";
        }
        LongSupplier min = () -> ms.stream().mapToLong(f).min().orElse(0);
        LongSupplier max = () -> ms.stream().mapToLong(f).max().orElse(0);
        return String.format(Locale.ROOT, "%.0f-%.0f", min.getAsLong() / 1024.0, max.getAsLong() / 1024.0);
    }

    private static double secs(Duration d) {
        return d.toNanos() / 1e9;
    }

    private static void run(Duration timeout, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return e.toString();
            }
        });
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " failed: " + out.getNow(""));
        }
    }
}
