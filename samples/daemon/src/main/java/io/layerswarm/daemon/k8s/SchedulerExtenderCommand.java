package io.layerswarm.daemon.k8s;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.layerswarm.k8s.extender.ExtenderHttpServer;
import io.layerswarm.k8s.extender.ExtenderJson;
import io.layerswarm.k8s.extender.ExtenderService;
import io.layerswarm.k8s.extender.PodBinder;
import io.layerswarm.k8s.extender.SeenPods;
import io.layerswarm.k8s.kube.BindPreheatHook;
import io.layerswarm.k8s.kube.KubernetesClusterWatch;
import io.layerswarm.k8s.kube.KubernetesPodBinder;
import io.layerswarm.k8s.orchestrator.TransferPlanner;
import io.layerswarm.k8s.preheat.PeerDirectory;
import io.layerswarm.k8s.preheat.PlanRequests;
import io.layerswarm.k8s.preheat.PreheatClient;
import io.layerswarm.k8s.preheat.PreheatRoom;
import io.layerswarm.k8s.preheat.ReplicaPreheater;
import io.layerswarm.k8s.preheat.StandaloneBindPreheat;
import io.layerswarm.k8s.scoring.DeploymentTimeModel;
import io.layerswarm.k8s.scoring.RegistryLayerResolver;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import io.layerswarm.k8s.scoring.ScoringPolicies;
import io.layerswarm.k8s.status.NodeStatusProtocol;
import io.layerswarm.k8s.status.StatusRecordCodec;
import io.layerswarm.k8s.status.StatusRecordVerifier;
import io.layerswarm.k8s.status.SwarmClusterView;
import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.QueuedPods;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.KeyFiles;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.oci.Platform;
import io.netty.channel.nio.NioEventLoopGroup;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code layerswarm scheduler-extender}: serves the kube-scheduler extender protocol, with a cluster
 * view fed by the swarm's signed status records and filtered by the API server's nodes.
 */
@Command(name = "scheduler-extender", mixinStandardHelpOptions = true,
        description = "Serve the kube-scheduler extender protocol (filter, prioritize, bind) with layer- and network-aware scoring.")
public final class SchedulerExtenderCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(SchedulerExtenderCommand.class);
    /**
     * Default of {@code --resolve-budget-ms}: kube-scheduler calls filter and prioritize one after the
     * other for every pod, so a pod whose image is new waits at most twice this; the resolution goes on
     * in the background and later calls answer from memory.
     */
    public static final long DEFAULT_RESOLVE_BUDGET_MS = 300;

    @Spec
    private CommandSpec spec;

    @Option(names = "--listen", defaultValue = "0.0.0.0:8888", description = "HOST:PORT of the extender (default: ${DEFAULT-VALUE}).")
    private String listen;

    @Option(names = "--url-prefix", defaultValue = "/layerswarm", description = "Path prefix of the verbs (default: ${DEFAULT-VALUE}).")
    private String urlPrefix;

    @Option(names = "--upstream", description = "Registry base URL images are resolved from (repeatable).")
    private List<String> upstreams = new ArrayList<>();

    @Option(names = "--bootstrap", description = "Swarm node multiaddr to join through as a light peer (repeatable).")
    private List<String> bootstrap = new ArrayList<>();

    @Option(names = "--p2p-listen", defaultValue = "/ip4/0.0.0.0/tcp/4002", description = "libp2p listen address (default: ${DEFAULT-VALUE}).")
    private String p2pListen;

    @Option(names = "--key", description = "libp2p identity key file (created if missing; default: a new key each start).")
    private Path keyFile;

    @Option(names = "--scoring", defaultValue = "layer-network", description = "image-locality|layer-locality|layer-network|predicted-time (default: ${DEFAULT-VALUE}).")
    private String scoring;

    @Option(names = "--platform", defaultValue = "linux/amd64", description = "Node platform (default: ${DEFAULT-VALUE}).")
    private String platform;

    @Option(names = "--resolve-budget-ms", defaultValue = "" + DEFAULT_RESOLVE_BUDGET_MS,
            description = "Longest a filter or prioritize call waits for an image the extender has not resolved yet; it then"
                    + " answers with what it knows (default: ${DEFAULT-VALUE}).")
    private long resolveBudgetMs;

    @Option(names = "--max-record-ttl", defaultValue = "PT5M", description = "Longest status record validity accepted (default: ${DEFAULT-VALUE}).")
    private Duration maxRecordTtl;

    @Option(names = "--preheat-window", defaultValue = "PT0.5S",
            description = "How long a bind waits for the binds of its sibling replicas, to preheat them with one plan (default: ${DEFAULT-VALUE}).")
    private Duration preheatWindow;

    @Option(names = "--queued-pod-max-age", defaultValue = "PT5M",
            description = "Longest a bound pod counts as queued on its node when no start is seen (default: ${DEFAULT-VALUE}).")
    private Duration queuedPodMaxAge;

    @Option(names = "--no-kubernetes",
            description = "Do not watch the API server; bind records the decision for scoring and preheats the node"
                    + " with the images of the pod as last filtered or prioritized (the caller binds and reports a"
                    + " pod's start with POST PREFIX/started).")
    private boolean noKubernetes;

    @Option(names = "--no-preheat", description = "Bind does not preheat the chosen node.")
    private boolean noPreheat;

    @Override
    public Integer call() throws Exception {
        InetSocketAddress address;
        Platform plat;
        try {
            address = hostPort(listen);
            plat = Platform.parse(platform);
            ScoringPolicies.create(scoring, DeploymentTimeModel.edgeDefaults());
            if (preheatWindow.isNegative() || preheatWindow.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new IllegalArgumentException("--preheat-window must be 0..PT1M");
            }
            if (queuedPodMaxAge.isNegative() || queuedPodMaxAge.isZero()) {
                throw new IllegalArgumentException("--queued-pod-max-age must be positive");
            }
            if (resolveBudgetMs < 1 || resolveBudgetMs > 4500) {
                throw new IllegalArgumentException("--resolve-budget-ms must be 1..4500 (the scheduler waits 5 s)");
            }
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("error: " + e.getMessage());
            return 2;
        }
        NioEventLoopGroup boss = new NioEventLoopGroup(1);
        NioEventLoopGroup workers = new NioEventLoopGroup(2);
        ExecutorService verbs = Executors.newFixedThreadPool(4);
        ExecutorService io = Executors.newCachedThreadPool();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        List<AutoCloseable> closing = new ArrayList<>();
        try {
            Clock clock = Clock.systemUTC();
            SwarmClusterView swarm = new SwarmClusterView(new StatusRecordCodec(),
                    new StatusRecordVerifier(clock, maxRecordTtl, Duration.ofSeconds(30)), clock, Map.of());
            Host host = Host.builder(keyFile == null ? Ed25519PrivateKey.generate() : KeyFiles.loadOrGenerate(keyFile))
                    .listen(Multiaddr.parse(p2pListen)).build().start();
            closing.add(host);
            Identify.attach(host);
            NodeStatusProtocol.attach(host, swarm);
            for (String b : bootstrap) {
                host.connect(Multiaddr.parse(b)).whenComplete((c, e) -> {
                    if (e != null) {
                        LOG.warn("event=bootstrap_failed addr={} reason=\"{}\"", b, e.toString());
                    }
                });
            }
            spec.commandLine().getOut().println("listening " + host.listenAddrs().get(0) + "/p2p/" + host.peerId().toBase58());
            RegistryLayerResolver resolver = new RegistryLayerResolver(RegistryClients.byHost(upstreams), plat, io,
                    Duration.ofMinutes(5), clock);
            resolver.warmUp(upstreams.stream().map(u -> URI.create(u).getAuthority()).toList());
            DeploymentTimeModel model = DeploymentTimeModel.edgeDefaults();
            ClusterView view = swarm;
            QueuedPods queued = new QueuedPods(clock, queuedPodMaxAge);
            PodBinder binder = a -> LOG.info("event=bind_recorded pod={}/{} node={}", a.podNamespace(), a.podName(), a.node());
            KubernetesClient client = null;
            if (!noKubernetes) {
                Config config = new ConfigBuilder().withRequestRetryBackoffLimit(1).withRequestTimeout(3000).build();
                client = new KubernetesClientBuilder().withConfig(config).build();
                closing.add(client);
                KubernetesClusterWatch watch = new KubernetesClusterWatch(client, swarm,
                        p -> LOG.info("event=pod_placed pod={}/{} node={}", p.namespace(), p.name(), p.node()), queued).start();
                closing.add(watch);
                view = watch;
                binder = new KubernetesPodBinder(client, a -> { });
            }
            SeenPods seen = null;
            if (!noPreheat) {
                SchedulingEngine planning = new SchedulingEngine(view, resolver, ScoringPolicies.create(scoring, model),
                        Duration.ofSeconds(30));
                TransferPlanner planner = new TransferPlanner(3, LinkEstimate.mbps(100, 2), LinkEstimate.mbps(20, 50));
                PeerDirectory peers = name -> swarm.peerIdOf(name).map(PeerId::parse);
                ReplicaPreheater preheater = new ReplicaPreheater(planning, planner, new PreheatClient(host, io), peers,
                        new PlanRequests(peers, host.peerStore()::addrs, plat), preheatWindow, timer, io);
                if (client != null) {
                    binder = new KubernetesPodBinder(client, new BindPreheatHook(client, preheater, io));
                } else {
                    seen = new SeenPods(4096);
                    // without an API server the caller reports starts (the started verb), which is what makes the
                    // queued pods, and so the room check, current
                    binder = new StandaloneBindPreheat(seen, preheater, new PreheatRoom(planning, queued, seen));
                }
            }
            SchedulingEngine engine = new SchedulingEngine(view, resolver, ScoringPolicies.create(scoring, model),
                    Duration.ofMillis(resolveBudgetMs), queued);
            ExtenderHttpServer server = ExtenderHttpServer.start(address, urlPrefix, new ExtenderService(engine, binder, queued, seen),
                    ExtenderJson.MAX_REQUEST_BYTES, boss, workers, verbs);
            closing.add(server);
            spec.commandLine().getOut().println("extender " + server.url());
            spec.commandLine().getOut().flush();
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "extender-shutdown"));
            stop.await();
            return 0;
        } finally {
            for (int i = closing.size() - 1; i >= 0; i--) {
                try {
                    closing.get(i).close();
                } catch (Exception e) {
                    LOG.debug("event=close_failed reason=\"{}\"", e.toString());
                }
            }
            verbs.shutdownNow();
            io.shutdownNow();
            timer.shutdownNow();
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    static InetSocketAddress hostPort(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("expected HOST:PORT, got '" + text + "'");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in '" + text + "'");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range in '" + text + "'");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, port);
    }
}
