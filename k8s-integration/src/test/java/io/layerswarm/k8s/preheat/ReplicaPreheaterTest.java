package io.layerswarm.k8s.preheat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.layerswarm.k8s.extender.ExtenderArgs;
import io.layerswarm.k8s.extender.ExtenderBindingArgs;
import io.layerswarm.k8s.extender.ExtenderService;
import io.layerswarm.k8s.extender.SeenPods;
import io.layerswarm.k8s.orchestrator.TransferPlanner;
import io.layerswarm.k8s.scoring.DeploymentTimeModel;
import io.layerswarm.k8s.scoring.ImageLayers;
import io.layerswarm.k8s.scoring.LayerInfo;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import io.layerswarm.k8s.scoring.ScoringPolicies;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.k8s.view.QueuedPods;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.oci.Platform;
import io.layerswarm.testing.Closer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What a bind gets back when there is nothing to send: every case answers, none fails the future. */
class ReplicaPreheaterTest {
    private static final String WEB = "127.0.0.1:5000/team/web:1";
    private static final String LAYER = "sha256:" + "ab".repeat(32);
    private final Closer open = new Closer();
    private final ExecutorService io = Executors.newCachedThreadPool();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final MutableClusterView view = new MutableClusterView();

    @AfterEach
    void stop() throws Exception {
        open.close();
        io.shutdownNow();
        timer.shutdownNow();
    }

    /** Resolves {@link #WEB} (one layer), fails any other image. */
    private SchedulingEngine webEngine() {
        ImageLayers web = new ImageLayers(WEB, "127.0.0.1:5000", "sha256:" + "ef".repeat(32),
                List.of(new LayerInfo(LAYER, 1 << 20)));
        return new SchedulingEngine(view, image -> image.equals(WEB) ? CompletableFuture.completedFuture(web)
                : CompletableFuture.failedFuture(new IllegalStateException("manifest unknown")),
                ScoringPolicies.create("layer-network", DeploymentTimeModel.edgeDefaults()), Duration.ofSeconds(5));
    }

    private ReplicaPreheater preheater() throws Exception {
        Host host = open.add(Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .ioThreads(1).build().start());
        SchedulingEngine engine = webEngine();
        PeerDirectory peers = name -> Optional.empty();
        return new ReplicaPreheater(engine, new TransferPlanner(3, LinkEstimate.mbps(100, 2), LinkEstimate.mbps(20, 50)),
                new PreheatClient(host, io), peers, new PlanRequests(peers, p -> List.of(), Platform.linuxAmd64()),
                Duration.ofMillis(50), timer, io);
    }

    @Test
    void anUnresolvableImageIsAnErrorForEveryNodeOfTheBatch() throws Exception {
        view.put(new NodeStatus("a", Map.of(), 1L << 30, 1L << 30, 0, Map.of(), Map.of()));
        ReplicaPreheater p = preheater();
        CompletableFuture<List<PreheatReply>> a = p.preheat(List.of("127.0.0.1:5000/team/gone:1"), "a");
        CompletableFuture<List<PreheatReply>> b = p.preheat(List.of("127.0.0.1:5000/team/gone:1"), "b");
        for (CompletableFuture<List<PreheatReply>> f : List.of(a, b)) {
            PreheatReply r = f.get(30, TimeUnit.SECONDS).get(0);
            assertEquals(PreheatReply.Status.ERROR, r.status());
            assertTrue(r.message().contains("team/gone:1"), r.message());
        }
    }

    @Test
    void aNodeOutsideTheViewIsReportedAndOneWithoutPeerIdToo() throws Exception {
        view.put(new NodeStatus("known", Map.of(), 1L << 30, 1L << 30, 0, Map.of(), Map.of()));
        ReplicaPreheater p = preheater();
        CompletableFuture<List<PreheatReply>> ghost = p.preheat(List.of(WEB), "ghost");
        CompletableFuture<List<PreheatReply>> known = p.preheat(List.of(WEB), "known");
        PreheatReply g = ghost.get(30, TimeUnit.SECONDS).get(0);
        assertEquals(PreheatReply.Status.ERROR, g.status());
        assertTrue(g.message().contains("ghost is not in the cluster view"), g.message());
        PreheatReply k = known.get(30, TimeUnit.SECONDS).get(0);
        assertEquals(PreheatReply.Status.ERROR, k.status());
        assertTrue(k.message().contains("no known peer id"), k.message());
    }

    @Test
    void aNodeThatHoldsTheImageGetsNoRequest() throws Exception {
        view.put(new NodeStatus("full", Map.of(LAYER, 1L << 20), 1L << 30, 1L << 30, 0, Map.of(), Map.of()));
        assertEquals(List.of(), preheater().preheat(List.of(WEB), "full").get(30, TimeUnit.SECONDS));
    }

    @Test
    void aNegativeWindowIsRefused() {
        Duration minus = Duration.ofMillis(-1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ReplicaPreheater(
                new SchedulingEngine(view, i -> new CompletableFuture<>(), ScoringPolicies.create("layer-network",
                        DeploymentTimeModel.edgeDefaults()), Duration.ofSeconds(1)),
                new TransferPlanner(3, LinkEstimate.mbps(100, 2), LinkEstimate.mbps(20, 50)), new PreheatClient(null, io),
                n -> Optional.empty(), new PlanRequests(n -> Optional.empty(), p -> List.of(), Platform.linuxAmd64()),
                minus, timer, io));
        assertTrue(e.getMessage().contains("window"), e.getMessage());
    }

    /**
     * Two batches of one image close one after the other while the first is still resolving the image
     * (cold resolver cache): the second must plan with the first's node as an arriving holder, not fetch
     * from the registry again. Before the fix the first batch claimed its nodes only after resolving, so
     * both plans took every layer from the registry (BindPreheatIT saw the image sent twice).
     */
    @Test
    void aBatchClosingWhileAnEarlierOneStillResolvesCopiesFromItsNodes() throws Exception {
        view.put(new NodeStatus("r1", Map.of(), 1L << 30, 1L << 30, 0, Map.of(), Map.of()));
        view.put(new NodeStatus("r2", Map.of(), 1L << 30, 1L << 30, 0, Map.of(), Map.of()));
        ImageLayers web = new ImageLayers(WEB, "127.0.0.1:5000", "sha256:" + "ef".repeat(32),
                List.of(new LayerInfo(LAYER, 1 << 20)));
        CompletableFuture<ImageLayers> registryAnswer = new CompletableFuture<>();
        Semaphore resolving = new Semaphore(0);
        SchedulingEngine engine = new SchedulingEngine(view, image -> {
            resolving.release(); // this batch has closed and waits on the registry
            return registryAnswer;
        }, ScoringPolicies.create("layer-network", DeploymentTimeModel.edgeDefaults()), Duration.ofSeconds(30));
        // PlanRequests asks for the peer id of every source and co-fetcher a plan names; no target is sent anything
        List<String> named = new CopyOnWriteArrayList<>();
        PlanRequests requests = new PlanRequests(n -> {
            named.add(n);
            return Optional.empty();
        }, p -> List.of(), Platform.linuxAmd64());
        ReplicaPreheater p = new ReplicaPreheater(engine, new TransferPlanner(3, LinkEstimate.mbps(100, 2),
                LinkEstimate.mbps(20, 50)), new PreheatClient(null, io), n -> Optional.empty(), requests, Duration.ZERO, timer, io);

        CompletableFuture<List<PreheatReply>> first = p.preheat(List.of(WEB), "r1");
        assertTrue(resolving.tryAcquire(30, TimeUnit.SECONDS), "r1's batch closed and resolves");
        CompletableFuture<List<PreheatReply>> second = p.preheat(List.of(WEB), "r2");
        assertTrue(resolving.tryAcquire(30, TimeUnit.SECONDS), "r2's batch closed too, while r1's still resolves");
        registryAnswer.complete(web);
        for (CompletableFuture<List<PreheatReply>> f : List.of(first, second)) {
            assertTrue(f.get(30, TimeUnit.SECONDS).get(0).message().contains("no known peer id"));
        }
        assertEquals(List.of("r1", "r1"), named, "r2's plan names r1 as the source of the layer and as a co-fetcher");
    }

    /**
     * Without an API server ({@code scheduler-extender --no-kubernetes}) the bind verb finds the pod's
     * images in what filter saw and hands them to the preheater: the reply for a node in the view without
     * a peer id proves the request reached the plan-and-send step with the right image; the bind itself
     * answers OK at once and counts the pod as queued.
     */
    @Test
    void aStandaloneBindPreheatsTheNodeWithTheImagesItsFilterCallSaw() throws Exception {
        view.put(new NodeStatus("known", Map.of(), 1L << 30, 1L << 30, 0, Map.of(), Map.of()));
        SeenPods seen = new SeenPods(8);
        StandaloneBindPreheat binder = new StandaloneBindPreheat(seen, preheater());
        QueuedPods queued = new QueuedPods(Clock.systemUTC(), Duration.ofMinutes(5));
        ExtenderService service = new ExtenderService(webEngine(), binder, queued, seen);
        Pod pod = new PodBuilder().withNewMetadata().withName("web-1").withNamespace("shop").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage(WEB).endContainer().endSpec().build();
        assertEquals(List.of("known"), service.filter(new ExtenderArgs(pod, null, List.of("known"))).nodeNames());
        assertEquals(Optional.of(List.of(WEB)), seen.images("shop", "web-1"));

        ExtenderBindingArgs bind = new ExtenderBindingArgs("web-1", "shop", "uid-1", "known");
        assertEquals("", service.bind(bind).error());
        assertEquals(Map.of("known", 1), queued.byNode());
        List<PreheatReply> replies = binder.preheat(bind).get(30, TimeUnit.SECONDS);
        assertEquals(1, replies.size());
        assertTrue(replies.get(0).message().contains("no known peer id"), replies.get(0).message());

        assertEquals(List.of(), binder.preheat(new ExtenderBindingArgs("never-scored", "shop", "uid-2", "known"))
                .get(30, TimeUnit.SECONDS), "a pod the extender did not score is bound without a preheat");
    }

    /**
     * A preheat the node's cache cannot hold beside the layers of its other queued pods is skipped (it would
     * evict them); once the queued pod has started it fits again; the pod's own queue entry, an unbounded
     * cache and a node outside the view never block it. A preheat that brings nothing forward is skipped too:
     * none queued ahead (the pull starts at the bind), or only pods whose pulls bring every layer it needs.
     */
    @Test
    void aPreheatThatWouldEvictTheQueuedPodsLayersIsSkipped() throws Exception {
        String api = "127.0.0.1:5000/team/api:1";
        String apiLayer = "sha256:" + "cd".repeat(32);
        ImageLayers web = new ImageLayers(WEB, "127.0.0.1:5000", "sha256:" + "ef".repeat(32),
                List.of(new LayerInfo(LAYER, 1 << 20)));
        ImageLayers apiLayers = new ImageLayers(api, "127.0.0.1:5000", "sha256:" + "01".repeat(32),
                List.of(new LayerInfo(apiLayer, 3 << 19)));
        SchedulingEngine engine = new SchedulingEngine(view, image -> image.equals(WEB)
                ? CompletableFuture.completedFuture(web) : image.equals(api) ? CompletableFuture.completedFuture(apiLayers)
                : CompletableFuture.failedFuture(new IllegalStateException("manifest unknown")),
                ScoringPolicies.create("layer-network", DeploymentTimeModel.edgeDefaults()), Duration.ofSeconds(5));
        view.put(new NodeStatus("small", Map.of(), 2 << 20, 2 << 20, 0, Map.of(), Map.of()));
        view.put(new NodeStatus("big", Map.of(), Long.MAX_VALUE, 1L << 40, 0, Map.of(), Map.of()));
        SeenPods seen = new SeenPods(8);
        QueuedPods queued = new QueuedPods(Clock.systemUTC(), Duration.ofMinutes(5));
        PreheatRoom room = new PreheatRoom(engine, queued, seen);
        for (String[] p : new String[][] {{"web-1", WEB}, {"web-2", WEB}, {"api-1", api}}) {
            seen.seen(new PodBuilder().withNewMetadata().withName(p[0]).withNamespace("shop").endMetadata().withNewSpec()
                    .addNewContainer().withName("app").withImage(p[1]).endContainer().endSpec().build());
        }
        queued.bound("shop/web-1", "small");

        assertEquals(Optional.empty(), room.check("shop/web-1", List.of(WEB), "small"), "its own entry does not count");
        assertEquals(Optional.empty(), room.check("shop/web-2", List.of(WEB), "small"), "same layers: 1 MiB in all");
        Optional<String> full = room.check("shop/api-1", List.of(api), "small");
        assertTrue(full.isPresent() && full.get().contains("beside those of 1 queued pods"), String.valueOf(full));
        assertEquals(Optional.empty(), room.check("shop/api-1", List.of(api), "big"), "unbounded cache");
        assertEquals(Optional.empty(), room.check("shop/api-1", List.of(api), "elsewhere"), "not in the view");

        StandaloneBindPreheat binder = new StandaloneBindPreheat(seen, preheater(), room);
        assertEquals(List.of(), binder.preheat(new ExtenderBindingArgs("api-1", "shop", "u", "small"))
                .get(30, TimeUnit.SECONDS), "skipped: no preheat reply");
        // nothing queued on "big": its kubelet pulls at the bind, a preheat would only run beside that pull
        assertEquals(Optional.of("pull_starts_now"), room.needless("shop/api-1", List.of(api), "big"));
        assertEquals(Optional.of("pull_starts_now"), room.needless("shop/web-1", List.of(WEB), "small"),
                "its own entry is not ahead of it");
        assertEquals(List.of(), binder.preheat(new ExtenderBindingArgs("api-1", "shop", "u", "big"))
                .get(30, TimeUnit.SECONDS), "skipped: the pull starts now");
        // web-1, queued ahead on "small", needs every layer web-2 needs: its pull brings them
        assertEquals(Optional.of("queued_pods_bring_it"), room.needless("shop/web-2", List.of(WEB), "small"));
        assertEquals(List.of(), binder.preheat(new ExtenderBindingArgs("web-2", "shop", "u", "small"))
                .get(30, TimeUnit.SECONDS), "skipped: the queued pod's pull brings its layers");
        // behind a queued pod of another image the preheat goes out (the node is unknown to the preheater's
        // peers: an error reply proves it was sent)
        view.put(new NodeStatus("mid", Map.of(), 4 << 20, 4 << 20, 0, Map.of(), Map.of()));
        queued.bound("shop/web-2", "mid");
        assertEquals(Optional.empty(), room.needless("shop/api-1", List.of(api), "mid"));
        assertEquals(Optional.empty(), room.check("shop/api-1", List.of(api), "mid"), "2.5 MiB together fits 4 MiB");
        List<PreheatReply> behind = binder.preheat(new ExtenderBindingArgs("api-1", "shop", "u", "mid"))
                .get(30, TimeUnit.SECONDS);
        assertEquals(1, behind.size(), String.valueOf(behind));
        queued.started("shop/web-1");
        assertEquals(Optional.empty(), room.check("shop/api-1", List.of(api), "small"), "1.5 MiB alone fits 2 MiB");
    }

    @Test
    void seenPodsForgetsTheLeastRecentlySeenAndIgnoresPodsWithoutName() {
        SeenPods seen = new SeenPods(2);
        for (String name : List.of("a", "b")) {
            seen.seen(new PodBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec().addNewInitContainer()
                    .withImage("init:1").endInitContainer().addNewContainer().withImage(name + ":1").endContainer()
                    .endSpec().build());
        }
        assertEquals(Optional.of(List.of("init:1", "a:1")), seen.images(null, "a"), "init containers first");
        seen.seen(new PodBuilder().withNewMetadata().withName("c").withNamespace("x").endMetadata().build());
        assertEquals(Optional.empty(), seen.images("", "b"), "b was the least recently seen of three");
        assertEquals(Optional.of(List.of()), seen.images("x", "c"));
        seen.seen(new PodBuilder().build());
        seen.seen(null);
        assertEquals(Optional.of(List.of("init:1", "a:1")), seen.images("", "a"));
        assertThrows(IllegalArgumentException.class, () -> new SeenPods(0));
    }
}
