package io.layerswarm.daemon.bench;

import io.layerswarm.k8s.extender.ExtenderHttpServer;
import io.layerswarm.k8s.extender.ExtenderJson;
import io.layerswarm.k8s.extender.ExtenderService;
import io.layerswarm.k8s.scoring.DeploymentTimeModel;
import io.layerswarm.k8s.scoring.RegistryLayerResolver;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import io.layerswarm.k8s.scoring.ScoringPolicies;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.RegistryClient;
import io.netty.channel.nio.NioEventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Per-call latency of the scheduler extender as kube-scheduler sees it: one scheduling call = {@code
 * filter} then {@code prioritize} over HTTP ({@link ExtenderClient}, NodeNames mode), against the real
 * extender stack (HTTP server, {@link SchedulingEngine}, {@link RegistryLayerResolver}, the
 * {@code --scoring} policy) with a view of N nodes and images of M layers, resolved from the real
 * docker-registry behind an emulated uplink ({@link UplinkedRegistry}). Cold = the first call for an
 * image the extender has not resolved yet; warm = later calls. The very first call of the JVM is printed
 * on its own (class loading not done at start). Run by {@code scripts/bench/extender-latency.sh}.
 */
@Command(name = "extender-latency", mixinStandardHelpOptions = true,
        description = "Scheduler extender per-call latency (filter + prioritize over HTTP), cold and warm.")
public final class ExtenderLatencyBench implements Callable<Integer> {
    @Option(names = "--nodes", defaultValue = "100", description = "Nodes in the view and candidates per call (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--layers", defaultValue = "20", description = "Layers per image (default: ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--images", defaultValue = "10", description = "Distinct images, i.e. cold calls (default: ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--warm-calls", defaultValue = "300", description = "Warm calls, cycling over the images (default: ${DEFAULT-VALUE}).")
    int warmCalls;

    @Option(names = "--resolve-budget-ms", defaultValue = "-1",
            description = "The extender's resolve budget; -1 = the scheduler-extender command's default.")
    long budgetMs;

    @Option(names = "--scoring", defaultValue = "layer-network", description = "Scoring policy (default: ${DEFAULT-VALUE}).")
    String scoring;

    @Option(names = "--churn-ms", defaultValue = "0", description = "Replace one random node's status (its free bytes"
            + " change) every N ms during the calls, as status records arriving from a live cluster do (500 nodes"
            + " publishing every 10 s = one record per 20 ms); 0 = a static view (default: ${DEFAULT-VALUE}).")
    long churnMs;

    @Option(names = "--engine-calls", defaultValue = "0", description = "After the HTTP calls, this many calls straight"
            + " into the scheduling engine (filter + prioritize on every node, no HTTP or JSON), to time the scoring"
            + " alone (default: ${DEFAULT-VALUE}).")
    int engineCalls;

    @Mixin
    UplinkOptions uplink;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ExtenderLatencyBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (nodes < 1 || layers < 1 || images < 1 || warmCalls < 1) {
            System.err.println("error: --nodes, --layers, --images and --warm-calls must be >= 1");
            return 2;
        }
        Duration budget = Duration.ofMillis(budgetMs >= 0 ? budgetMs
                : io.layerswarm.daemon.k8s.SchedulerExtenderCommand.DEFAULT_RESOLVE_BUDGET_MS);
        NioEventLoopGroup boss = new NioEventLoopGroup(1);
        NioEventLoopGroup workers = new NioEventLoopGroup(2);
        ExecutorService verbs = Executors.newFixedThreadPool(4);
        ExecutorService io = Executors.newCachedThreadPool();
        try (UplinkedRegistry registry = UplinkedRegistry.start(uplink.mbps, Duration.ofMillis(uplink.latencyMs))) {
            List<String> refs = new ArrayList<>();
            List<String> allLayers = new ArrayList<>();
            RegistryClient direct = RegistryClient.builder(URI.create(registry.directUrl())).build();
            for (int i = 0; i < images; i++) {
                refs.add(registry.host() + "/" + push(direct, "bench/app" + i, i, allLayers));
            }
            MutableClusterView view = view(allLayers, registry.host());
            RegistryClient viaUplink = RegistryClient.builder(URI.create(registry.url())).build();
            RegistryLayerResolver resolver = new RegistryLayerResolver(h -> h.equals(registry.host()) ? viaUplink : null,
                    Platform.linuxAmd64(), io, Duration.ofMinutes(5), Clock.systemUTC());
            resolver.warmUp(List.of(registry.host())); // as scheduler-extender does at start
            SchedulingEngine engine = new SchedulingEngine(view, resolver,
                    ScoringPolicies.create(scoring, DeploymentTimeModel.edgeDefaults()), budget);
            ExtenderHttpServer server = ExtenderHttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    "/layerswarm", new ExtenderService(engine, a -> {
                        throw new IllegalStateException("no binding in this benchmark");
                    }), ExtenderJson.MAX_REQUEST_BYTES, boss, workers, verbs);
            java.util.concurrent.ScheduledExecutorService churn = Executors.newSingleThreadScheduledExecutor();
            if (churnMs > 0) {
                List<NodeStatus> all = List.copyOf(view.nodes());
                Random pick = new Random(11);
                churn.scheduleAtFixedRate(() -> {
                    NodeStatus s = all.get(pick.nextInt(all.size()));
                    long free = view.node(s.nodeName()).orElse(s).freeBytes();
                    view.put(new NodeStatus(s.nodeName(), s.layers(), s.capacityBytes(), free ^ 1, s.evictableBytes(),
                            s.registries(), s.peers()));
                }, churnMs, churnMs, TimeUnit.MILLISECONDS);
            }
            try (server) {
                ExtenderClient client = new ExtenderClient(URI.create(server.url()));
                client.ping(); // kube-scheduler's client is warm; this one is not
                List<String> names = view.nodes().stream().map(NodeStatus::nodeName).sorted().toList();
                System.out.printf(Locale.ROOT, "extender latency: %d nodes, %d images x %d layers, scoring %s, resolve budget %d ms,"
                        + " registry behind %.0f Mbit/s +%d ms, churn every %d ms%n", nodes, images, layers, scoring,
                        budget.toMillis(), uplink.mbps, uplink.latencyMs, churnMs);
                long[] cold = new long[images];
                int[] unscored = {0};
                int[] failed = {0, 0};
                for (int i = 0; i < images; i++) {
                    cold[i] = timed(client, "cold" + i, refs.get(i), names, failed, 0, unscored);
                    if (i == 0) {
                        System.out.printf(Locale.ROOT, "first call of the JVM: %.1f ms%n", cold[0] / 1e6);
                    }
                }
                long[] warm = new long[warmCalls];
                for (int k = 0; k < warmCalls; k++) {
                    warm[k] = timed(client, "warm" + k, refs.get(k % images), names, failed, 1, new int[1]);
                }
                System.out.println("| calls | n | p50 (ms) | p99 (ms) | max (ms) | failed or timed out (5 s) |");
                System.out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
                row("cold (image not resolved yet)", cold, failed[0]);
                row("warm", warm, failed[1]);
                System.out.printf("cold calls answered with all-zero scores (image not known in time): %d of %d%n",
                        unscored[0], images);
                if (engineCalls > 0) {
                    long[] inEngine = new long[engineCalls];
                    long checksum = 0;
                    for (int k = 0; k < engineCalls; k++) {
                        long t = System.nanoTime();
                        io.layerswarm.k8s.scoring.PodLayers pod = engine.resolve(List.of(refs.get(k % images)));
                        List<String> passed = engine.filter(pod, names).passed();
                        checksum += engine.score(pod, passed).size();
                        inEngine[k] = System.nanoTime() - t;
                    }
                    System.out.printf("engine calls (filter + score, no HTTP), %d scored nodes in all:%n", checksum);
                    row("engine", inEngine, 0);
                }
            } finally {
                churn.shutdownNow();
            }
            return 0;
        } finally {
            verbs.shutdownNow();
            io.shutdownNow();
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** One scheduling call's nanoseconds; a failed or timed-out call counts in {@code failed[slot]} at its elapsed time. */
    private static long timed(ExtenderClient client, String pod, String ref, List<String> names, int[] failed, int slot,
                              int[] unscored) throws InterruptedException {
        long t = System.nanoTime();
        try {
            Map<String, Long> scores = client.scores(pod, ref, names);
            unscored[0] += scores.values().stream().allMatch(s -> s == 0) ? 1 : 0;
        } catch (java.io.IOException e) {
            failed[slot]++;
            System.err.println("event=extender_call_failed pod=" + pod + " error=\"" + e + "\"");
        }
        return System.nanoTime() - t;
    }

    private static void row(String what, long[] nanos, int failed) {
        long[] micros = java.util.Arrays.stream(nanos).map(n -> n / 1000).toArray();
        System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %d |%n", what, micros.length,
                DeadPeersBenchCommand.percentile(micros, 50) / 1e3, DeadPeersBenchCommand.percentile(micros, 99) / 1e3,
                java.util.Arrays.stream(micros).max().orElse(0) / 1e3, failed);
    }

    /** Pushes an image of {@link #layers} small layers (unique per image but the first, a shared base). */
    private String push(RegistryClient client, String repository, int index, List<String> allLayers) throws Exception {
        List<Descriptor> ds = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            byte[] b = ("layer " + (l == 0 ? "base" : index + "-" + l)).getBytes(StandardCharsets.UTF_8);
            Digest d = Digest.sha256(b);
            client.pushBlob(repository, d, b);
            ds.add(Descriptor.of(MediaTypes.OCI_LAYER_GZIP, d, b.length));
            if (!allLayers.contains(d.toString())) {
                allLayers.add(d.toString());
            }
        }
        byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"
                .getBytes(StandardCharsets.UTF_8);
        client.pushBlob(repository, Digest.sha256(config), config);
        ImageManifest m = ImageManifest.oci(Descriptor.of(MediaTypes.OCI_CONFIG, Digest.sha256(config), config.length), ds);
        client.putManifest(repository, "1", m.toJson(), m.mediaType());
        return repository + ":1";
    }

    /** N nodes, each holding a seeded random third of the layers, measured links to the registry and every peer. */
    private MutableClusterView view(List<String> allLayers, String registryHost) {
        Random rnd = new Random(7);
        List<String> names = new ArrayList<>();
        for (int n = 0; n < nodes; n++) {
            names.add(String.format(Locale.ROOT, "node-%04d", n));
        }
        MutableClusterView view = new MutableClusterView();
        for (String name : names) {
            Map<String, Long> held = new HashMap<>();
            for (String d : allLayers) {
                if (rnd.nextInt(3) == 0) {
                    held.put(d, 10L << 20);
                }
            }
            Map<String, LinkEstimate> peers = new HashMap<>();
            for (String p : names) {
                if (!p.equals(name)) {
                    peers.put(p, LinkEstimate.mbps(200 + rnd.nextInt(200), 1 + rnd.nextInt(10)));
                }
            }
            view.put(new NodeStatus(name, held, 8L << 30, 4L << 30, 1L << 30,
                    Map.of(registryHost, LinkEstimate.mbps(100, 50)), peers));
        }
        return view;
    }
}
