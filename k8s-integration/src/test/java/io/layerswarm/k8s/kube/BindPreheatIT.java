package io.layerswarm.k8s.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Binding;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.layerswarm.k8s.extender.ExtenderHttpServer;
import io.layerswarm.k8s.extender.ExtenderJson;
import io.layerswarm.k8s.extender.ExtenderService;
import io.layerswarm.k8s.orchestrator.TransferPlanner;
import io.layerswarm.k8s.preheat.PeerDirectory;
import io.layerswarm.k8s.preheat.PlanRequests;
import io.layerswarm.k8s.preheat.PreheatClient;
import io.layerswarm.k8s.preheat.PreheatNodes;
import io.layerswarm.k8s.preheat.ReplicaPreheater;
import io.layerswarm.k8s.scoring.DeploymentTimeModel;
import io.layerswarm.k8s.scoring.RegistryLayerResolver;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import io.layerswarm.k8s.scoring.ScoringPolicies;
import io.layerswarm.k8s.status.NodeStatusProtocol;
import io.layerswarm.k8s.status.StatusRecordCodec;
import io.layerswarm.k8s.status.StatusRecordVerifier;
import io.layerswarm.k8s.status.SwarmClusterView;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.Node;
import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.NodeListener;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import io.netty.channel.nio.NioEventLoopGroup;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Kubernetes path end to end, with fabric8's mock API server (CRUD mode) standing in for the API
 * server and everything else real: kube-scheduler's HTTP POST of {@code ExtenderBindingArgs} to the
 * extender's bind verb, the {@code pods/binding} call, the watch that feeds the extender's view, the
 * {@link ReplicaPreheater} with the swarm-fed view, the preheat protocol to in-process nodes that publish
 * signed status records, and a docker-registry. The target nodes join no one: whatever they get from a
 * peer, they got because the plan told them whom to dial.
 */
@EnableKubernetesMockClient(crud = true)
class BindPreheatIT {
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    static KubernetesClient client;
    static KubernetesMockServer server;

    @TempDir
    Path tmp;
    private final Closer open = new Closer();
    private final ExecutorService io = Executors.newCachedThreadPool();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final NioEventLoopGroup boss = new NioEventLoopGroup(1);
    private final NioEventLoopGroup workers = new NioEventLoopGroup(1);
    private final HttpClient http = HttpClient.newHttpClient();
    /** Bindings the mock API server received, as it parsed them. */
    private final List<Binding> bindings = new CopyOnWriteArrayList<>();
    /** Per target node, the blob fetches it made and when the last one ended. */
    private final Map<String, List<NodeEvent.BlobFetched>> fetched = new ConcurrentHashMap<>();
    private final Map<String, Long> lastFetchNanos = new ConcurrentHashMap<>();
    private final List<PodPlacement> placed = new CopyOnWriteArrayList<>();
    private RegistryFixture registry;
    private Corpus.Image image;
    private SwarmClusterView swarm;
    private Host orchestrator;
    private ExtenderHttpServer extender;
    private KubernetesClusterWatch watch;

    @BeforeEach
    void start() throws Exception {
        image = Corpus.small().largest();
        registry = open.add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        Corpus.small().pushTo(registry.baseUri().toString());
        swarm = new SwarmClusterView(new StatusRecordCodec(),
                new StatusRecordVerifier(Clock.systemUTC(), Duration.ofMinutes(5), Duration.ofSeconds(5)),
                Clock.systemUTC(), Map.of());
        orchestrator = open.add(Host.builder(Ed25519PrivateKey.generate())
                .listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).ioThreads(1).build().start());
        Identify.attach(orchestrator);
        NodeStatusProtocol.attach(orchestrator, swarm);

        watch = open.add(new KubernetesClusterWatch(client, swarm, placed::add).start());
    }

    /** The extender as `layerswarm scheduler-extender` wires it, against the mock API server and the swarm. */
    private void startExtender(Duration preheatWindow) throws InterruptedException {
        RegistryLayerResolver resolver = new RegistryLayerResolver(h -> RegistryClient.builder(registry.baseUri()).build(),
                Platform.linuxAmd64(), io, Duration.ofMinutes(5), Clock.systemUTC());
        DeploymentTimeModel model = DeploymentTimeModel.edgeDefaults();
        SchedulingEngine planning = new SchedulingEngine(watch, resolver, ScoringPolicies.create("layer-network", model),
                Duration.ofSeconds(30));
        PeerDirectory peers = name -> swarm.peerIdOf(name).map(PeerId::parse);
        ReplicaPreheater preheater = new ReplicaPreheater(planning,
                new TransferPlanner(3, LinkEstimate.mbps(100, 2), LinkEstimate.mbps(20, 50)),
                new PreheatClient(orchestrator, io), peers,
                new PlanRequests(peers, orchestrator.peerStore()::addrs, Platform.linuxAmd64()),
                preheatWindow, timer, io);
        SchedulingEngine engine = new SchedulingEngine(watch, resolver, ScoringPolicies.create("layer-network", model),
                Duration.ofSeconds(2));
        extender = ExtenderHttpServer.start(new InetSocketAddress("127.0.0.1", 0), "/layerswarm",
                new ExtenderService(engine, new KubernetesPodBinder(client, new BindPreheatHook(client, preheater, io))),
                ExtenderJson.MAX_REQUEST_BYTES, boss, workers, io);
    }

    @AfterEach
    void stop() throws Exception {
        if (extender != null) {
            extender.close();
        }
        open.close();
        io.shutdownNow();
        timer.shutdownNow();
        boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        client.pods().inAnyNamespace().delete();
        client.nodes().delete();
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void bindThroughTheExtenderPreheatsTheTargetAndItsMirrorPullTakesNothingFromTheRegistry() throws Exception {
        Node a = node("a", null, false);
        Node b = node("b", a, false);
        Node t = node("t", null, true);
        a.pull(registry.hostPort(), image.name(), image.tag(), Platform.linuxAmd64());
        b.pull(registry.hostPort(), image.name(), image.tag(), Platform.linuxAmd64());
        Await.until(PATIENCE, "the extender's view has a and b holding the image, and t", () ->
                List.of("a", "b").stream().allMatch(h -> watch.node(h)
                        .filter(s -> image.layers().stream().allMatch(l -> s.holds(l.digest()))).isPresent())
                        && watch.node("t").isPresent());
        startExtender(Duration.ofSeconds(1));
        Map<String, Long> servedBefore = registry.blobBytesServed();
        String uid = createPod("web");

        HttpResponse<String> r = bind("web", uid, "t");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("{\"Error\":\"\"}", r.body());

        // the API server got the Binding, and the watch saw the pod land on t
        assertEquals(1, bindings.size());
        assertEquals("t", bindings.get(0).getTarget().getName());
        assertEquals(uid, bindings.get(0).getMetadata().getUid());
        Await.until(PATIENCE, "the pod's nodeName is t", () -> "t".equals(nodeNameOf("web")));
        Await.until(PATIENCE, "the watch reports the placement", () -> placed.stream().anyMatch(p -> p.name().equals("web")));
        assertEquals(new PodPlacement("shop", "web", uid, "t", List.of(ref())), placed.get(0));

        Await.until(PATIENCE, "t holds every blob of the image", () -> holdsImage(t));
        assertTrue(t.host().connection(a.peerId()).isPresent() || t.host().connection(b.peerId()).isPresent(),
                "t dialled a holder the plan named");
        Map<String, Long> servedAfterPreheat = registry.blobBytesServed();
        for (Corpus.Layer l : image.layers()) {
            assertEquals(servedBefore.get(l.digest()), servedAfterPreheat.get(l.digest()), "registry bytes of " + l.digest());
        }

        // kubelet's pull through t's mirror: everything local, no blob byte from the registry
        int fetchesBefore = fetched.get("t").size();
        PreheatNodes.pullThroughMirror(t, image);
        assertEquals(servedAfterPreheat, registry.blobBytesServed(), "the mirror pull sent no blob bytes from the registry");
        assertEquals(fetchesBefore, fetched.get("t").size(), "t fetched nothing more");
    }

    /**
     * With a window the three binds join one plan; with none each bind is planned alone, the later ones
     * with their siblings still fetching as sources. Either way the registry sends the image about once.
     */
    @ParameterizedTest(name = "preheat window {0}")
    @ValueSource(strings = {"PT1S", "PT0S"})
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void threeReplicasBoundToThreeEmptyNodesTakeTheImageFromTheRegistryOnce(String window) throws Exception {
        startExtender(Duration.parse(window));
        List<Node> replicas = new ArrayList<>();
        for (String name : List.of("r1", "r2", "r3")) {
            replicas.add(node(name, null, false));
        }
        Await.until(PATIENCE, "the extender's view has the three nodes", () -> watch.nodes().size() == 3);
        List<String> uids = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            uids.add(createPod("web-" + i));
        }
        long imageBlobBytes = PreheatNodes.blobs(image).stream().mapToLong(this::sizeOf).sum();
        long servedBefore = registry.totalBlobBytesServed();

        long start = System.nanoTime();
        for (int i = 1; i <= 3; i++) {
            HttpResponse<String> r = bind("web-" + i, uids.get(i - 1), "r" + i);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("{\"Error\":\"\"}", r.body());
        }
        assertEquals(3, bindings.size());
        for (Node n : replicas) {
            Await.until(PATIENCE, n.peerId() + " holds every blob of the image", () -> holdsImage(n));
        }
        long elapsedMs = (lastFetchNanos.values().stream().mapToLong(Long::longValue).max().orElseThrow() - start) / 1_000_000;
        long registryBytes = registry.totalBlobBytesServed() - servedBefore;
        assertTrue(registryBytes >= imageBlobBytes, "no one held the image: it came from the registry at least once ("
                + registryBytes + " of " + imageBlobBytes + ")");
        assertTrue(registryBytes <= imageBlobBytes * 105 / 100,
                "the uplink carried the image about once, not once per replica: " + registryBytes + " bytes for an image of "
                        + imageBlobBytes);
        long peerBytes = fetched.values().stream().flatMap(List::stream).mapToLong(NodeEvent.BlobFetched::peerBytes).sum();
        System.out.printf("bind-preheat-replicas: window=%s image=%s replicas=3 image_blob_bytes=%d registry_blob_bytes=%d "
                        + "ratio=%.3f peer_bytes=%d bind_to_last_blob_ms=%d%n", window, image.ref(), imageBlobBytes, registryBytes,
                (double) registryBytes / imageBlobBytes, peerBytes, elapsedMs);
    }

    private Node node(String name, Node bootstrap, boolean mirror) throws Exception {
        fetched.put(name, new CopyOnWriteArrayList<>());
        Node.Builder b = PreheatNodes.builder(tmp.resolve(name), name, registry, bootstrap, mirror).listener(new NodeListener() {
            @Override
            public void blobFetched(NodeEvent.BlobFetched e) {
                fetched.get(name).add(e);
                lastFetchNanos.put(name, System.nanoTime());
            }
        });
        Node n = open.add(b.start());
        orchestrator.connect(n.listenAddrs().get(0)).get(30, TimeUnit.SECONDS);
        // Kubernetes lists it as a Ready node, so the watch lets the extender see it
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewStatus().addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build())
                .create();
        return n;
    }

    private String ref() {
        return registry.hostPort() + "/" + image.name() + ":" + image.tag();
    }

    /** Creates a pending pod of the image, and makes the mock API server answer its binding as the real one does. */
    private String createPod(String name) {
        Pod pod = client.pods().inNamespace("shop").resource(new PodBuilder().withNewMetadata().withName(name)
                .withNamespace("shop").endMetadata().withNewSpec().addNewContainer().withName("app").withImage(ref())
                .endContainer().endSpec().build()).create();
        // The CRUD dispatcher cannot store the pods/binding subresource, so this call is answered by an
        // expectation: record the Binding, then set the pod's nodeName (off the server's thread), as binding does.
        server.expect().post().withPath("/api/v1/namespaces/shop/pods/" + name + "/binding").andReply(201, req -> {
            String body = req.getBody().readUtf8();
            Binding binding = client.getKubernetesSerialization().unmarshal(body, Binding.class);
            bindings.add(binding);
            io.execute(() -> client.pods().inNamespace("shop").withName(name).edit(p -> new PodBuilder(p).editSpec()
                    .withNodeName(binding.getTarget().getName()).endSpec().build()));
            return body;
        }).once();
        return pod.getMetadata().getUid();
    }

    /** kube-scheduler's bind call: POST urlPrefix/bind with the upstream ExtenderBindingArgs. */
    private HttpResponse<String> bind(String pod, String uid, String node) throws Exception {
        String body = "{\"PodName\":\"" + pod + "\",\"PodNamespace\":\"shop\",\"PodUID\":\"" + uid + "\",\"Node\":\"" + node + "\"}";
        return http.send(HttpRequest.newBuilder(URI.create(extender.url() + "/bind"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String nodeNameOf(String pod) {
        Pod p = client.pods().inNamespace("shop").withName(pod).get();
        return p == null || p.getSpec() == null ? null : p.getSpec().getNodeName();
    }

    private boolean holdsImage(Node n) {
        return PreheatNodes.blobs(image).stream().allMatch(b -> n.store().contains(Digest.parse(b)));
    }

    private long sizeOf(String blob) {
        try {
            return Files.size(image.blob(blob));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
