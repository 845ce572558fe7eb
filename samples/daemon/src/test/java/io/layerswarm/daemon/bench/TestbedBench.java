package io.layerswarm.daemon.bench;

import io.layerswarm.cache.ByteSize;
import io.layerswarm.cache.sim.TraceEvent;
import io.layerswarm.cache.sim.TraceFile;
import io.layerswarm.k8s.scoring.ImageLayers;
import io.layerswarm.k8s.scoring.ImageLocalityScorer;
import io.layerswarm.k8s.scoring.LayerInfo;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.testing.Containerd;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.Processes;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The deployment testbed of issue 12, scaled to one machine: clusters of workers, each worker a real
 * containerd (own root, socket, {@code hosts.toml}) and, in the LayerSwarm modes, a {@code layerswarm node}
 * with a cache capacity that containerd pulls through, both in the worker's network namespace of a
 * {@link TestbedNetwork} (worker links and the links between clusters shaped with {@code tc tbf}); the real
 * docker-registry behind an {@link UplinkedRegistry} listening in the root namespace, reachable from
 * every worker. A scaled deployment trace ({@link TestbedTrace}) is replayed at its request
 * times; each request is scheduled onto a worker of its cluster and deployed there: {@code ctr images
 * pull} then {@code ctr run --rm IMAGE /bin/true}. Deployment time runs from the request time to the
 * return of {@code ctr run} (the container's process has run). A worker deploys one pod at a time
 * (kubelet's serialized image pulls), so time waiting behind earlier deployments counts.
 *
 * <p>Modes: {@code baseline} (containerd pulls from the registry; kube-scheduler's ImageLocality over
 * the images containerd holds plus LeastAllocated); {@code swarm} (the same scheduling, containerd pulls
 * through the worker's node); {@code full} (swarm, scored by the real {@code layerswarm
 * scheduler-extender} over HTTP, filter and prioritize, then bind, which feeds its queued pods; its view
 * comes from the nodes' signed status records); {@code preheat} (full, and the extender's bind preheats the
 * chosen node through the project's {@code ReplicaPreheater} at once, while the worker may still deploy
 * earlier requests). In every mode containerd's images are collected with kubelet's policy
 * ({@link KubeletImageGc}) at the row's cache size; the nodes' caches get the same capacity.
 *
 * <p>Order: the baseline rows first, {@code --baseline-lanes} at a time (each lane with a registry and uplink
 * of its own), then the LayerSwarm rows one at a time, each with fresh nodes that map a class archive written
 * before the rows and pull a warm-up image before the trace.
 *
 * <p>Run by {@code scripts/bench/testbed.sh}.
 */
@Command(name = "testbed", mixinStandardHelpOptions = true,
        description = "Replay a deployment trace on containerd workers: stock scheduling and pulls vs LayerSwarm.")
public final class TestbedBench implements Callable<Integer> {
    /** How long the extender may take to hold every node's status record (pushed on connect, then every 10 s). */
    private static final Duration STATUS_WAIT = Duration.ofSeconds(30);
    /** The rows, in the order: each adds one part of LayerSwarm to the one before. */
    static final List<String> MODES = List.of("baseline", "swarm", "full", "preheat", "refactored");
    /** Tag suffix of the images {@code layerswarm refactor apply} pushes for the refactored row. */
    static final String REFACTORED = "-rf";

    @Option(names = "--corpus", required = true, description = "Corpus directory (with corpus.json).")
    Path corpusDir;

    @Option(names = "--trace", required = true, description = "Testbed trace (TraceFile JSON lines, node = cluster-N).")
    Path traceFile;

    @Option(names = "--requests", defaultValue = "0", description = "Replay only the first N requests (0: all).")
    int requests;

    @Option(names = "--clusters", defaultValue = "2", description = "Clusters (default: ${DEFAULT-VALUE}).")
    int clusters;

    @Option(names = "--workers", defaultValue = "4", description = "Workers per cluster (default: ${DEFAULT-VALUE}, the"
            + " seed's).")
    int workersPerCluster;

    @Option(names = "--caches", split = ",", defaultValue = "0,500MB,1GB,2GB", description = "Cache sizes per worker, nominal"
            + " (the seed's scale; default: ${DEFAULT-VALUE}).")
    List<String> caches;

    @Option(names = "--cache-scale", defaultValue = "1", description = "A worker's cache = nominal size x this (the"
            + " corpus images are smaller than the seed's; default: ${DEFAULT-VALUE}).")
    double cacheScale;

    @Option(names = "--modes", split = ",", defaultValue = "baseline,swarm,full,preheat,refactored",
            description = "Rows per cache size (default: ${DEFAULT-VALUE}).")
    List<String> modes;

    @Option(names = "--grid-cache", description = "Run every mode only at this nominal cache size; at the others only the"
            + " first and the last of --modes (to fit the run time; default: every mode everywhere).")
    String gridCache;

    @Mixin
    UplinkOptions uplink = new UplinkOptions();

    @Option(names = "--lan-mbps", defaultValue = "400", description = "Each worker's link to its cluster's bridge,"
            + " Mbit/s each way, before --rate-scale (tc tbf; default: ${DEFAULT-VALUE}).")
    double lanMbps;

    @Option(names = "--inter-cluster-mbps", defaultValue = "200", description = "The link between two clusters,"
            + " Mbit/s each way, before --rate-scale (tc tbf; default: ${DEFAULT-VALUE}).")
    double interMbps;

    @Option(names = "--inter-cluster-rtt-ms", defaultValue = "10", description = "Round trip added between two"
            + " clusters by a userspace delay line (no netem here; 0: none; default: ${DEFAULT-VALUE}).")
    int interRttMs;

    @Option(names = "--delay-line", description = "scripts/bench/delay-line.py (needed with --inter-cluster-rtt-ms > 0).")
    Path delayLine;

    @Option(names = "--rate-scale", defaultValue = "0.3333333", description = "Every link rate (uplink, worker links, between"
            + " clusters) x this factor, the round trips unchanged: the issue's rule for a machine that cannot carry the"
            + " seed's 8 workers at its rates (2 cores here; default: ${DEFAULT-VALUE}).")
    double rateScale;

    @Option(names = "--net-tag", description = "Names this run's network namespaces (TAG-...) and interfaces: 1-9"
            + " lower-case letters and digits (default: lstb + this JVM's pid).")
    String netTag;

    @Option(names = "--slots", defaultValue = "4", description = "Pods a worker runs at once (default: ${DEFAULT-VALUE}).")
    int slots;

    @Option(names = "--pod-window", defaultValue = "4", description = "A pod counts as running for this many later"
            + " deployments (LeastAllocated input; default: ${DEFAULT-VALUE}).")
    int podWindow;

    @Option(names = "--warmup-mb", defaultValue = "8", description = "Before a LayerSwarm row's trace every worker's"
            + " containerd pulls a generated single-layer image of this many MiB through its node, then removes it, so"
            + " the node JVMs start the trace warm, as long-running daemons are (0: none; default: ${DEFAULT-VALUE}).")
    int warmupMb;

    @Option(names = "--class-archive", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Before the rows, one node pulls the warm-up image (without one: only starts) and writes the"
                    + " classes it loaded to a CDS archive as it exits; every row's node and extender JVMs then map"
                    + " it instead of loading those classes from the jar (default: on).")
    boolean classArchive;

    @Option(names = "--baseline-lanes", defaultValue = "2", description = "Baseline rows run this many at a time, each"
            + " lane with its own registry and uplink (they are bound by the uplink; 1: one after the other; default:"
            + " ${DEFAULT-VALUE}).")
    int baselineLanes;

    @Mixin
    LauncherRunOptions launch = new LauncherRunOptions();

    @Option(names = "--results", description = "Also write the rows as tab-separated values here (for the plot).")
    Path results;

    /** What this run started; set by {@link #call()}. */
    private BenchResources res;
    private UplinkedRegistry registry;
    private TestbedNetwork network;
    /** Extender calls of the current row that failed or timed out (the request was scheduled without it). */
    private int extenderErrors;
    private final Map<String, Corpus.Image> images = new LinkedHashMap<>();
    /** Config blob sizes of images without a local layout (the refactored ones, read from the registry). */
    private final Map<String, Long> configBytes = new HashMap<>();
    /** The warm-up image as clients name it (through the uplink), or {@code null} without --warmup-mb. */
    private String warmupRef;
    /** JVM options every row's node and extender get (the class archive), or empty. */
    private String jvmOpts = "";
    /** Deletions of finished rows' directories, which run while the next rows set up. */
    private final List<CompletableFuture<Void>> deleting = new CopyOnWriteArrayList<>();

    /** One worker of a row: containerd, kubelet's image GC, its deployment queue and (swarm modes) its node. */
    private record Worker(String name, int cluster, Containerd containerd, KubeletImageGc gc, ExecutorService queue,
                          LauncherNode node, UplinkedRegistry registry) {
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new TestbedBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (clusters < 1 || workersPerCluster < 1 || clusters * workersPerCluster > 16 || uplink.mbps <= 0
                || uplink.latencyMs < 0 || !(lanMbps > 0) || !(interMbps > 0) || interRttMs < 0
                || (interRttMs > 0 && (delayLine == null || !Files.isRegularFile(delayLine)))
                || slots < 1 || podWindow < 0 || requests < 0 || warmupMb < 0 || warmupMb > 1024
                || baselineLanes < 1 || baselineLanes > 4
                || !(cacheScale > 0) || Double.isInfinite(cacheScale) || !(rateScale > 0) || rateScale > 1
                || !modes.stream().allMatch(MODES::contains)) {
            System.err.println("error: --clusters x --workers in 1..16, --uplink-mbps > 0, --uplink-latency-ms >= 0,"
                    + " --inter-cluster-rtt-ms >= 0 (> 0 needs --delay-line FILE),"
                    + " --slots >= 1, --pod-window >= 0, --requests >= 0, --warmup-mb in 0..1024, --baseline-lanes in 1..4, --cache-scale > 0, --rate-scale in (0, 1],"
                    + " --modes of "
                    + String.join(",", MODES));
            return 2;
        }
        if (netTag == null) {
            netTag = "lstb" + ProcessHandle.current().pid() % 100_000;
        }
        if (!TestbedNetwork.validTag(netTag)) {
            System.err.println("error: --net-tag: 1-9 lower-case letters and digits, starting with a letter");
            return 2;
        }
        res = new BenchResources(launch.work, "testbed");
        return res.run(this::bench);
    }

    private int bench() throws Exception {
        Corpus corpus = Corpus.load(corpusDir);
        corpus.images().forEach(i -> images.put(i.ref(), i));
        List<TraceEvent> trace = TraceFile.read(traceFile);
        if (requests > 0 && requests < trace.size()) {
            trace = trace.subList(0, requests);
        }
        for (TraceEvent e : trace) {
            if (!images.containsKey(e.image()) || TestbedTrace.cluster(e) >= clusters) {
                throw new IllegalArgumentException("trace request " + e + " names an image not in the corpus or a"
                        + " cluster beyond --clusters");
            }
        }
        Files.createDirectories(launch.work);
        network = res.add(TestbedNetwork.create(netTag, clusters, workersPerCluster, lanMbps * rateScale,
                interMbps * rateScale,
                interRttMs, delayLine));
        registry = UplinkedRegistry.start(uplink.mbps * rateScale, Duration.ofMillis(uplink.latencyMs),
                java.net.InetAddress.getByName(network.registryAddress()));
        res.add(registry);
        registry.push(corpus);
        boolean nodes = modes.stream().anyMatch(m -> !m.equals("baseline")); // the baseline rows start none
        if (warmupMb > 0 && nodes) {
            warmupRef = pushWarmupImage();
        }
        if (classArchive && nodes) {
            archiveNodeClasses();
        }
        if (modes.contains("refactored")) {
            refactor(trace.stream().map(TraceEvent::image).distinct().toList());
        }
        long distinct = trace.stream().map(TraceEvent::image).distinct()
                .flatMap(i -> images.get(i).layers().stream()).map(Corpus.Layer::digest).distinct()
                .mapToLong(d -> images.values().stream().flatMap(i -> i.layers().stream()).filter(l -> l.digest().equals(d))
                        .findFirst().orElseThrow().size()).sum();
        System.out.printf(Locale.ROOT, "testbed: %d clusters x %d workers, %d requests over %.0f s, %d images"
                        + " (%d distinct layer bytes), rates x %.4g: uplink %.4g Mbit/s +%d ms RTT, worker links %.4g Mbit/s, between"
                        + " clusters %.4g Mbit/s +%d ms RTT, netns %s-*, slots %d, pod window %d%n%n",
                clusters, workersPerCluster, trace.size(), trace.get(trace.size() - 1).ts() / 1000.0,
                trace.stream().map(TraceEvent::image).distinct().count(), distinct, rateScale, uplink.mbps * rateScale,
                uplink.latencyMs, lanMbps * rateScale, interMbps * rateScale, interRttMs, netTag, slots, podWindow);
        System.out.println(TestbedRun.header());
        List<TestbedRun> runs = new CopyOnWriteArrayList<>();
        Map<Long, TestbedRun> baselines = new java.util.concurrent.ConcurrentHashMap<>();
        Long grid = gridCache == null ? null : ByteSize.parse(gridCache);
        List<Long> nominals = caches.stream().map(ByteSize::parse).sorted().toList();
        if (modes.contains("baseline")) {
            baselineRows(nominals, trace, corpus, runs, baselines);
        }
        for (long nominal : nominals) {
            long capacity = TestbedRun.scaled(nominal, cacheScale);
            for (String mode : rowModes(modes, grid, nominal)) {
                if (mode.equals("baseline")) {
                    continue;
                }
                TestbedRun run = row(mode, nominal, capacity, trace, registry);
                runs.add(run);
                System.out.println(run.row(baselines.get(nominal)));
                writeResults(runs); // after every row: a run stopped early keeps what it measured
            }
        }
        pendingDeletes();
        if (baselineLanes > 1 && modes.contains("baseline")) {
            // the rows above printed as they finished; the table again in grid order
            System.out.println();
            System.out.println(TestbedRun.header());
            for (TestbedRun r : ordered(runs)) {
                System.out.println(r.row(baselines.get(r.nominal())));
            }
        }
        return runs.stream().anyMatch(r -> r.failures() > 0) ? 1 : 0;
    }

    /**
     * The baseline rows, {@code --baseline-lanes} at a time, each lane with a registry and uplink of its own
     * (the seed's baseline had its own 100 Mbit/s uplink too). They are bound by the uplink and leave most of
     * the CPU idle (64 % idle in a baseline row here), so two lanes cost the baselines little and the grid
     * about 5 minutes less; {@code --baseline-lanes 1} runs them one after the other, to check that.
     * The smallest cache (the longest row) gets a lane of its own; the rest share the others.
     */
    private void baselineRows(List<Long> nominals, List<TraceEvent> trace, Corpus corpus, List<TestbedRun> runs,
                              Map<Long, TestbedRun> baselines) throws Exception {
        List<List<Long>> plan = lanePlan(nominals, baselineLanes);
        int lanes = plan.size();
        // every lane's registry is filled before any lane starts: no push competes with a row
        List<UplinkedRegistry> registries = new ArrayList<>(List.of(registry));
        while (registries.size() < lanes) {
            UplinkedRegistry reg = res.add(UplinkedRegistry.start(uplink.mbps * rateScale,
                    Duration.ofMillis(uplink.latencyMs), java.net.InetAddress.getByName(network.registryAddress())));
            reg.push(corpus);
            registries.add(reg);
        }
        List<CompletableFuture<Void>> running = new ArrayList<>();
        for (int lane = 0; lane < lanes; lane++) {
            UplinkedRegistry laneRegistry = registries.get(lane);
            List<Long> mine = plan.get(lane);
            running.add(CompletableFuture.runAsync(() -> {
                for (long nominal : mine) {
                    try {
                        TestbedRun run = row("baseline", nominal, TestbedRun.scaled(nominal, cacheScale), trace,
                                laneRegistry);
                        baselines.put(nominal, run);
                        runs.add(run);
                        System.out.println(run.row(run));
                        writeResults(runs);
                    } catch (Exception e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                }
            }, res.pool()));
        }
        try {
            CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    /**
     * Which baseline rows each lane runs, in order: the first cache size (the smallest, whose row is the
     * longest) alone in lane 0, the others dealt round-robin to the remaining lanes; never more lanes than rows.
     */
    static List<List<Long>> lanePlan(List<Long> nominals, int lanes) {
        int n = Math.max(1, Math.min(lanes, nominals.size()));
        List<List<Long>> plan = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            plan.add(new ArrayList<>());
        }
        for (int i = 0; i < nominals.size(); i++) {
            plan.get(n == 1 || i == 0 ? 0 : 1 + (i - 1) % (n - 1)).add(nominals.get(i));
        }
        return plan;
    }

    /** Rows by cache size, then in the order of {@link #MODES}. */
    static List<TestbedRun> ordered(List<TestbedRun> runs) {
        return runs.stream().sorted(java.util.Comparator.comparingLong(TestbedRun::nominal)
                .thenComparingInt(r -> MODES.indexOf(r.mode()))).toList();
    }

    private void pendingDeletes() {
        for (CompletableFuture<Void> d : deleting) {
            d.join();
        }
    }

    private synchronized void writeResults(List<TestbedRun> runs) throws IOException {
        if (results == null) {
            return;
        }
        StringBuilder tsv = new StringBuilder("# nominal_mb\tmode\tmean_s\tp95_s\thit_ratio\tregistry_bytes"
                + "\tcapacity_bytes\tinter_cluster_bytes\n");
        for (TestbedRun r : ordered(runs)) {
            tsv.append(String.format(Locale.ROOT, "%.0f\t%s\t%.3f\t%.3f\t%.4f\t%d\t%d\t%d%n", r.nominal() / 1e6,
                    r.mode(), r.mean(), r.p95(), r.hitRatio(), r.registryBytes(), r.capacity(),
                    r.peers().otherClusters()));
        }
        Files.writeString(results, tsv);
    }

    /**
     * {@code layerswarm refactor apply --mode path} over the trace's images in the registry (directly, not
     * through the uplink: it is the image build, before any row); the refactored images, {@code TAG-rf},
     * become known by their manifests in the registry.
     */
    private void refactor(List<String> refs) throws Exception {
        long start = System.nanoTime();
        List<String> cmd = new ArrayList<>(List.of(launch.launcher.toString(), "refactor", "apply", "--registry",
                registry.directUrl(), "--suffix", REFACTORED, "--mode", "path"));
        refs.forEach(r -> cmd.addAll(List.of("--image", r)));
        Path log = Files.createDirectories(launch.work).resolve("refactor.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("refactor apply failed: " + Files.readString(log));
        }
        long before = 0;
        long after = 0;
        java.util.Set<String> distinctBefore = new java.util.HashSet<>();
        java.util.Set<String> distinctAfter = new java.util.HashSet<>();
        for (String r : refs) {
            Corpus.Image original = images.get(r);
            RegistryImage rf = RegistryImage.read(registry.directUrl(), original.name(), original.tag() + REFACTORED);
            images.put(rf.image().ref(), rf.image());
            configBytes.put(rf.image().ref(), rf.configSize());
            for (Corpus.Layer l : original.layers()) {
                if (distinctBefore.add(l.digest())) {
                    before += l.size();
                }
            }
            for (Corpus.Layer l : rf.image().layers()) {
                if (distinctAfter.add(l.digest())) {
                    after += l.size();
                }
            }
        }
        System.out.printf(Locale.ROOT, "refactored %d images (layerswarm refactor apply --mode path) in %.1f s: distinct"
                        + " layer bytes %d -> %d, layers %d -> %d%n", refs.size(), (System.nanoTime() - start) / 1e9,
                before, after, distinctBefore.size(), distinctAfter.size());
    }

    /**
     * Writes a generated image (one layer of {@code --warmup-mb} MiB of seeded random bytes: it shares no layer
     * with the corpus) and pushes it to the registry directly, not through the uplink.
     *
     * @return its reference through the uplink
     */
    private String pushWarmupImage() throws IOException {
        Path layout = GeneratedImage.write(Files.createDirectories(launch.work.resolve("warmup-layout")),
                Math.multiplyExact(warmupMb, 1 << 20));
        String repo = "layerswarm-warmup/w" + warmupMb + ":" + GeneratedImage.TAG;
        String dest = registry.directUrl().replaceFirst("^https?://", "").replaceAll("/+$", "") + "/" + repo;
        try {
            Processes.run(120, "skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
                    "oci:" + layout + ":" + GeneratedImage.TAG, "docker://" + dest);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted pushing the warm-up image");
        }
        return registry.host() + "/" + repo;
    }

    /**
     * Every worker pulls the warm-up image through its node at once (the first copy from the registry, the rest
     * mostly from peers, as in a burst), then removes it from containerd. The node keeps it in its cache until
     * the trace needs room: the least recent entry of ARC's T1 (seen once), held by every other node, which the
     * cluster-aware ARC evicts first. The registry and peer bytes of the row are counted from the trace's start.
     */
    private void warmUp(String mode, long capacity, List<Worker> workers) {
        long start = System.nanoTime();
        List<CompletableFuture<Void>> pulls = new ArrayList<>();
        for (Worker w : workers) {
            pulls.add(CompletableFuture.runAsync(() -> {
                w.containerd().pull(warmupRef, Duration.ofMinutes(5));
                w.containerd().removeImage(warmupRef);
            }, res.pool()));
        }
        pulls.forEach(CompletableFuture::join);
        System.err.printf(Locale.ROOT, "event=warmup_done mode=%s capacity=%d mib=%d seconds=%.1f%n", mode, capacity,
                warmupMb, (System.nanoTime() - start) / 1e9);
    }

    /**
     * Writes a CDS archive of the classes a node loads while it starts and serves one pull (JDK 17's dynamic
     * archive, written as the JVM exits), so that the 8 node JVMs every row starts map those classes instead
     * of loading and verifying them: 8 nodes starting at once here took 12 s and 22 CPU-s without it, 8 s and
     * 16 CPU-s with a start-only archive ({@code scripts/bench/node-start.sh}). Without a usable archive the
     * JVMs fall back to the jar, so a failure here only costs speed.
     */
    private void archiveNodeClasses() throws Exception {
        long start = System.nanoTime();
        Path dir = Files.createDirectories(launch.work.resolve("class-archive"));
        Path archive = launch.work.resolve("node.jsa");
        // JVM warnings (an unusable archive) to stderr: the drivers read the processes' first stdout lines
        String logOpts = " -Xlog:disable -Xlog:all=warning:stderr";
        LauncherNode node = res.add(LauncherNode.start(network.exec(0, 0), network.address(0, 0), launch.launcher,
                "archive", dir.resolve("node"), registry.url(), List.of("--node-name", "archive", "--insecure-upstream",
                        registry.url()),
                Map.of("LAYERSWARM_JAVA_OPTS_EXTRA", "-XX:ArchiveClassesAtExit=" + archive + logOpts,
                        "LAYERSWARM_LOG_LEVEL", "INFO"), res.pool()));
        try {
            if (warmupRef != null) {
                Containerd ctd = res.add(Containerd.start(dir.resolve("containerd"), network.namespace(0, 0)));
                try {
                    ctd.mirror(registry.host(), URI.create(registry.url()), List.of(URI.create("http://" + node.mirror)));
                    ctd.pull(warmupRef, Duration.ofMinutes(5));
                } finally {
                    res.close(ctd);
                }
            }
        } finally {
            res.close(node); // SIGTERM: the JVM writes the archive as it exits
            Containerd.deleteTree(dir);
        }
        if (Files.isRegularFile(archive) && Files.size(archive) > 0) {
            jvmOpts = "-XX:SharedArchiveFile=" + archive + logOpts;
        }
        System.err.printf(Locale.ROOT, "event=class_archive written=%s bytes=%d seconds=%.1f%n", !jvmOpts.isEmpty(),
                Files.isRegularFile(archive) ? Files.size(archive) : 0, (System.nanoTime() - start) / 1e9);
    }

    /** Environment of a row's node or extender: {@code env} plus the class archive's JVM options. */
    private Map<String, String> jvmEnv(Map<String, String> env) {
        Map<String, String> m = new HashMap<>(env);
        if (!jvmOpts.isEmpty()) {
            m.merge("LAYERSWARM_JAVA_OPTS_EXTRA", jvmOpts, (a, b) -> a + " " + b);
        }
        return m;
    }

    /** The modes of one cache size: all of them at the grid size (or without one), else the first and the last. */
    static List<String> rowModes(List<String> modes, Long grid, long nominal) {
        if (grid == null || grid == nominal || modes.size() <= 2) {
            return modes;
        }
        return List.of(modes.get(0), modes.get(modes.size() - 1));
    }

    /** One row: its workers (and nodes, extender) started, the trace replayed, everything stopped; pulls from {@code reg}. */
    private TestbedRun row(String mode, long nominal, long capacity, List<TraceEvent> trace, UplinkedRegistry reg)
            throws Exception {
        Path dir = Files.createDirectories(launch.work.resolve(mode + "-" + capacity));
        boolean swarm = !mode.equals("baseline");
        List<Worker> workers = new ArrayList<>();
        List<AutoCloseable> rowOpen = new ArrayList<>();
        LauncherNode extender = null;
        long begun = System.nanoTime();
        long replayed = 0;
        long replayedEnd = 0;
        try {
            // The workers start side by side (a containerd or a node JVM takes 5-10 s on this loaded machine,
            // one after the other they took a minute per row); the first node goes first: the others join through it.
            LauncherNode first = swarm ? startNode(0, 0, dir, capacity, null) : null;
            if (first != null) {
                rowOpen.add(first);
            }
            List<CompletableFuture<Worker>> starting = new ArrayList<>();
            for (int c = 0; c < clusters; c++) {
                for (int i = 0; i < workersPerCluster; i++) {
                    int cluster = c;
                    int index = i;
                    String name = "w" + c + "-" + i;
                    starting.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            LauncherNode n = first == null ? null
                                    : cluster == 0 && index == 0 ? first : startNode(cluster, index, dir, capacity,
                                    first.listen);
                            Containerd ctd = res.add(Containerd.start(dir.resolve("c" + cluster + index),
                                    network.namespace(cluster, index)));
                            ctd.mirror(reg.host(), URI.create(reg.url()),
                                    n == null ? List.of() : List.of(URI.create("http://" + n.mirror)));
                            return new Worker(name, cluster, ctd, new KubeletImageGc(capacity),
                                    Executors.newSingleThreadExecutor(), n, reg);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }, res.pool()));
                }
            }
            Exception failed = null;
            for (CompletableFuture<Worker> f : starting) {
                try {
                    Worker w = f.join();
                    workers.add(w);
                    if (w.node() != null && !rowOpen.contains(w.node())) {
                        rowOpen.add(w.node());
                    }
                    rowOpen.add(w.containerd());
                } catch (java.util.concurrent.CompletionException e) {
                    failed = failed == null ? e : failed;
                }
            }
            if (failed != null) {
                // what did start is closed by the finally below; a node whose containerd failed is still in res
                throw failed;
            }
            for (Worker w : workers) {
                if (w.node() != null && !w.node().awaitPeers(workers.size() - 1, Duration.ofSeconds(60))) {
                    System.out.printf("  warning: %s sees %d of %d peers after 60 s%n", w.name(), w.node().peers(),
                            workers.size() - 1);
                }
            }
            // The extender starts while the nodes warm up: its JVM start-up overlaps the warm-up's wait on
            // the uplink instead of adding ~6 s per row; the warm-up image is not in the trace, so the status
            // records it shows up in change no decision.
            CompletableFuture<Void> warming = swarm && warmupRef != null
                    ? CompletableFuture.runAsync(() -> warmUp(mode, capacity, workers), res.pool())
                    : CompletableFuture.completedFuture(null);
            ExtenderClient scheduler = null;
            if (mode.equals("full") || mode.equals("preheat") || mode.equals("refactored")) {
                extender = startExtender(dir, workers, !mode.equals("full"));
                rowOpen.add(extender);
                scheduler = new ExtenderClient(URI.create(extender.mirror));
                // every node's first status record reaches the extender (pushed when it connects)
                if (!extender.awaitLogLines("event=status_node_joined", workers.size(), STATUS_WAIT)) {
                    System.out.printf("  warning: the extender's view lacks some of the %d nodes after %d s%n",
                            workers.size(), STATUS_WAIT.toSeconds());
                }
            }
            warming.join();
            // the previous rows' files are gone before this row measures anything (the disk is shared)
            pendingDeletes();
            replayed = System.nanoTime();
            TestbedRun run = replay(mode, nominal, capacity, trace, workers, scheduler, reg);
            replayedEnd = System.nanoTime();
            return run;
        } finally {
            for (Worker w : workers) {
                w.queue().shutdownNow();
            }
            // side by side: 8 containerds and 8 node JVMs stopping one after the other took a large part of a row
            List<CompletableFuture<Void>> closing = new ArrayList<>();
            for (AutoCloseable a : rowOpen) {
                closing.add(CompletableFuture.runAsync(() -> {
                    try {
                        res.close(a);
                    } catch (Exception e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                }, res.pool()));
            }
            Exception closeFailed = null;
            for (CompletableFuture<Void> f : closing) {
                try {
                    f.join();
                } catch (java.util.concurrent.CompletionException e) {
                    if (closeFailed == null) {
                        closeFailed = e.getCause() instanceof Exception x ? x : e;
                    }
                }
            }
            for (AutoCloseable a : rowOpen) {
                if (a instanceof LauncherNode n) {
                    launch.keepLogs(dir, n);
                }
            }
            // in the background, overlapping the next row's set-up (its 8 containerd roots and node stores
            // took 4-10 s to delete here); the next row waits for it before its trace starts
            deleting.add(CompletableFuture.runAsync(() -> Containerd.deleteTree(dir), res.pool()));
            if (closeFailed != null) {
                throw closeFailed;
            }
            if (replayedEnd > 0) {
                // where a row's wall time goes, for fitting the grid into its time budget
                long end = System.nanoTime();
                System.err.printf(Locale.ROOT, "event=row_done mode=%s capacity=%d setup_s=%.1f replay_s=%.1f"
                        + " teardown_s=%.1f%n", mode, capacity, (replayed - begun) / 1e9, (replayedEnd - replayed) / 1e9,
                        (end - replayedEnd) / 1e9);
            }
        }
    }

    /**
     * Worker {@code index} of {@code cluster}'s {@code layerswarm node}, in its network namespace, with the
     * row's cache capacity, joined through {@code bootstrap} if given.
     */
    private LauncherNode startNode(int cluster, int index, Path dir, long capacity, String bootstrap)
            throws IOException {
        String name = "w" + cluster + "-" + index;
        List<String> extra = new ArrayList<>(List.of("--node-name", name, "--cache-capacity",
                // 0 means unbounded to the node: one byte keeps nothing
                Long.toString(Math.max(1, capacity)),
                // plain http off loopback: the registry is reached over the testbed's routed network
                "--insecure-upstream", registry.url()));
        if (bootstrap != null) {
            extra.addAll(List.of("--bootstrap", bootstrap));
        }
        // INFO: the blob_downloaded lines the bytes between clusters are added up from
        return res.add(LauncherNode.start(network.exec(cluster, index), network.address(cluster, index),
                launch.launcher, name, dir.resolve(name), registry.url(), extra,
                jvmEnv(Map.of("LAYERSWARM_LOG_LEVEL", "INFO")), res.pool()));
    }

    /**
     * {@code layerswarm scheduler-extender --no-kubernetes}, joined to every node; its URL is in {@code mirror}.
     * With {@code preheat} its bind verb preheats the chosen node, else it only records the decision.
     */
    private LauncherNode startExtender(Path dir, List<Worker> workers, boolean preheat) throws IOException {
        Path d = Files.createDirectories(dir.resolve("extender"));
        List<String> cmd = new ArrayList<>(List.of(launch.launcher.toString(), "scheduler-extender", "--no-kubernetes",
                "--listen", "127.0.0.1:0", "--p2p-listen", "/ip4/" + network.registryAddress() + "/tcp/0", "--upstream",
                registry.url()));
        if (!preheat) {
            cmd.add("--no-preheat");
        }
        for (Worker w : workers) {
            cmd.addAll(List.of("--bootstrap", w.node().listen));
        }
        LauncherNode.Started s = LauncherNode.startProcess("extender", cmd, d.resolve("stderr.log"),
                jvmEnv(Map.of("LAYERSWARM_JAVA_OPTS_EXTRA", "-Xmx256m", "LAYERSWARM_LOG_LEVEL", "INFO")), res.pool(),
                "listening /", "extender http://");
        return res.add(LauncherNode.wrap("extender", s, s.lines().get(0).substring("listening ".length()),
                s.lines().get(1).substring("extender ".length()), d.resolve("stderr.log")));
    }

    private TestbedRun replay(String mode, long nominal, long capacity, List<TraceEvent> trace, List<Worker> workers,
                              ExtenderClient extender, UplinkedRegistry reg) throws Exception {
        long registryBefore = reg.blobBytes();
        Map<String, Long> logLinesBefore = logLines(workers);
        extenderErrors = 0;
        Map<String, Integer> running = new HashMap<>();
        Deque<String> live = new ArrayDeque<>();
        List<CompletableFuture<Deployed>> done = new ArrayList<>();
        long requested = 0;
        long t0 = System.nanoTime();
        for (int n = 0; n < trace.size(); n++) {
            TraceEvent e = trace.get(n);
            long at = t0 + TimeUnit.MILLISECONDS.toNanos(e.ts());
            long wait = at - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            // the full system deploys the refactored images, every other row the originals
            Corpus.Image image = images.get(mode.equals("refactored") ? e.image() + REFACTORED : e.image());
            requested += bytes(image);
            int cluster = TestbedTrace.cluster(e);
            List<Worker> candidates = workers.stream().filter(w -> w.cluster() == cluster).toList();
            Worker chosen = schedule("d" + n, image, candidates, running, extender);
            long decided = System.nanoTime();
            running.merge(chosen.name(), 1, Integer::sum);
            live.addLast(chosen.name());
            if (live.size() > podWindow) {
                running.merge(live.removeFirst(), -1, Integer::sum);
            }
            String id = "d" + n;
            done.add(CompletableFuture.supplyAsync(() -> deploy(id, chosen, image, at, decided, extender), chosen.queue()));
        }
        List<Double> seconds = new ArrayList<>();
        List<TestbedRun.Phases> phases = new ArrayList<>();
        int failures = 0;
        for (CompletableFuture<Deployed> f : done) {
            try {
                Deployed d = f.get(30, TimeUnit.MINUTES);
                seconds.add(d.seconds());
                phases.add(d.phases());
            } catch (Exception ex) {
                failures++;
                System.out.println("  deployment failed: " + ex.getMessage().lines().findFirst().orElse(""));
            }
        }
        if (extenderErrors > 0) {
            System.out.printf("  note: %s row: %d extender calls (of %d requests) failed or timed out (5 s); those requests"
                    + " were scheduled or bound without the extender (an ignorable extender)%n", mode, extenderErrors,
                    trace.size());
        }
        return new TestbedRun(mode, nominal, capacity, seconds, phases, requested, reg.blobBytes() - registryBefore,
                peerBytes(workers, logLinesBefore), failures);
    }

    /** Per worker with a node, the lines its log holds now. */
    private static Map<String, Long> logLines(List<Worker> workers) throws IOException {
        Map<String, Long> out = new HashMap<>();
        for (Worker w : workers) {
            if (w.node() != null) {
                try (var lines = Files.lines(w.node().stderr)) {
                    out.put(w.name(), lines.count());
                }
            }
        }
        return out;
    }

    /** What the row's nodes took from each other, by cluster, from their logs after the first {@code skip} lines. */
    private static PeerBytes peerBytes(List<Worker> workers, Map<String, Long> skip) throws IOException {
        Map<String, Integer> clusterOf = new HashMap<>();
        for (Worker w : workers) {
            if (w.node() != null) {
                clusterOf.put(w.node().listen.substring(w.node().listen.lastIndexOf("/p2p/") + 5), w.cluster());
            }
        }
        PeerBytes sum = PeerBytes.NONE;
        for (Worker w : workers) {
            if (w.node() != null) {
                try (var lines = Files.lines(w.node().stderr)) {
                    sum = sum.plus(PeerBytes.of(clusterOf, w.cluster(), lines.skip(skip.getOrDefault(w.name(), 0L))));
                }
            }
        }
        return sum;
    }

    /** kube-scheduler: extender scores (full) or ImageLocality over containerd's images, plus LeastAllocated. */
    private Worker schedule(String pod, Corpus.Image image, List<Worker> candidates, Map<String, Integer> running,
                            ExtenderClient extender) throws Exception {
        List<String> names = candidates.stream().map(Worker::name).toList();
        Map<String, ? extends Number> scores = null;
        if (extender != null) {
            try {
                scores = extender.scores(pod, candidates.get(0).registry().host() + "/" + image.ref(), names);
            } catch (IOException e) {
                // an ignorable extender: kube-scheduler goes on with its own plugins
                extenderErrors++;
                System.err.println("event=extender_failed pod=" + pod + " error=\"" + e + "\"");
            }
        }
        if (scores == null) {
            MutableClusterView view = new MutableClusterView();
            for (Worker w : candidates) {
                synchronized (w.gc()) {
                    long used = w.gc().usedBytes();
                    view.put(new NodeStatus(w.name(), w.gc().layers(), Math.max(used, 1), 0, used, Map.of(), Map.of()));
                }
            }
            scores = new ImageLocalityScorer().score(podLayers(image, candidates.get(0).registry()), names, view);
        }
        String pick = KubeScheduling.pick(names, scores, running, slots);
        if (pick == null) { // every worker full: kube-scheduler would queue; the testbed takes the least loaded
            pick = names.stream().min((a, b) -> running.getOrDefault(a, 0) - running.getOrDefault(b, 0)).orElseThrow();
        }
        if (extender != null) {
            try {
                extender.bind(pod, pick);
            } catch (IOException e) {
                // the driver binds anyway (it runs the pod); the extender only misses the decision
                extenderErrors++;
                System.err.println("event=extender_bind_failed pod=" + pod + " error=\"" + e + "\"");
            }
        }
        // what decided: the 0..10 scores (extender or ImageLocality) and the pods counted as running (LeastAllocated)
        System.err.printf(Locale.ROOT, "event=scheduled pod=%s image=%s pick=%s scores=%s running=%s extender=%b%n", pod,
                image.ref(), pick, KubeScheduling.describe(names, scores), KubeScheduling.describe(names, running),
                extender != null);
        String p = pick;
        return candidates.stream().filter(w -> w.name().equals(p)).findFirst().orElseThrow();
    }

    private static PodLayers podLayers(Corpus.Image image, UplinkedRegistry reg) {
        List<LayerInfo> layers = image.layers().stream().map(l -> new LayerInfo(l.digest(), l.size())).toList();
        return PodLayers.of(List.of(new ImageLayers(image.ref(), reg.host(), image.manifestDigest(), layers)));
    }

    /** One finished deployment. */
    private record Deployed(double seconds, TestbedRun.Phases phases) {
    }

    /**
     * Pull, run, then kubelet's image GC; times from the request time {@code at} and the scheduling
     * decision {@code decided} (nanoTime). One line per deployment goes to stderr.
     */
    private Deployed deploy(String id, Worker w, Corpus.Image image, long at, long decided, ExtenderClient extender) {
        String ref = w.registry().host() + "/" + image.ref();
        long start = System.nanoTime();
        Containerd.Pull pull = w.containerd().pull(ref, Duration.ofMinutes(10));
        long pulled = System.nanoTime();
        w.containerd().run(ref, Duration.ofMinutes(2), "/bin/true");
        long ran = System.nanoTime();
        if (extender != null) {
            // what kubelet's pod status tells an extender with an API server: the pod runs, it no longer waits
            // for the node (without this it would count as queued for --queued-pod-max-age, 5 min)
            try {
                extender.started(id);
            } catch (IOException e) {
                System.err.println("event=extender_started_failed pod=" + id + " error=\"" + e + "\"");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        double seconds = (ran - at) / 1e9;
        TestbedRun.Phases phases = new TestbedRun.Phases((decided - at) / 1e9, (start - decided) / 1e9,
                (pulled - start) / 1e9, (ran - pulled) / 1e9);
        // fetch: ctr's own "elapsed" before it starts unpacking (content fetched); pull - fetch is mostly unpack
        System.err.printf(Locale.ROOT, "event=deployed id=%s image=%s worker=%s seconds=%.2f schedule=%.2f queue=%.2f"
                + " pull=%.2f fetch=%s run=%.2f%n", id, image.ref(), w.name(), seconds, phases.schedule(), phases.queue(),
                phases.pull(), pull.fetched().map(d -> String.format(Locale.ROOT, "%.2f", d.toNanos() / 1e9)).orElse("-"),
                phases.run());
        List<String> remove;
        synchronized (w.gc()) {
            Map<String, Long> layers = new HashMap<>();
            image.layers().forEach(l -> layers.put(l.digest(), l.size()));
            w.gc().used(image.ref(), layers);
            remove = w.gc().collect();
        }
        for (String r : remove) {
            w.containerd().removeImage(w.registry().host() + "/" + r);
        }
        return new Deployed(seconds, phases);
    }

    private long bytes(Corpus.Image image) {
        try {
            Long config = configBytes.get(image.ref());
            return image.layers().stream().mapToLong(Corpus.Layer::size).sum()
                    + (config != null ? config : Files.size(image.blob(image.configDigest())));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
