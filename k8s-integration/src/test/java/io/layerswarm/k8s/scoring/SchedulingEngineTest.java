package io.layerswarm.k8s.scoring;

import static io.layerswarm.k8s.scoring.Fixtures.image;
import static io.layerswarm.k8s.scoring.Fixtures.layer;
import static io.layerswarm.k8s.scoring.Fixtures.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.QueuedPods;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class SchedulingEngineTest {
    private final LayerInfo base = layer("base", 80);
    private final LayerInfo app = layer("app", 40);
    private final ImageLayers web = image("web", base, app);
    private final ImageLayers sidecar = image("sidecar", base);

    @Test
    void aSlowImageIsLeftOutAfterTheBudgetAndCountsOnceItArrives() {
        MutableClusterView view = new MutableClusterView();
        view.put(node("holder", 1000, 500, 0, base, app));
        view.put(node("empty", 1000, 500, 0));
        CompletableFuture<ImageLayers> slowWeb = new CompletableFuture<>(); // the registry has not answered yet
        LayerResolver resolver = i -> i.equals("web") ? slowWeb : CompletableFuture.completedFuture(sidecar);
        SchedulingEngine engine = new SchedulingEngine(view, resolver, new LayerLocalityScorer(), Duration.ofMillis(50));

        PodLayers pod = engine.resolve(List.of("sidecar", "web"));
        assertEquals(List.of(sidecar), pod.images(), "answers with what it knows");
        assertEquals(Map.of("web", "not resolved within 50 ms"), pod.unresolved());
        assertEquals(2, pod.containers());

        slowWeb.complete(web);
        PodLayers later = engine.resolve(List.of("sidecar", "web"));
        assertEquals(List.of(sidecar, web), later.images());
        assertTrue(later.unresolved().isEmpty());
        Map<String, Double> s = engine.score(later, List.of("empty", "holder"));
        assertTrue(s.get("holder") > s.get("empty"), s.toString());
    }

    /**
     * The engine keeps its snapshot across calls while the view's version is unchanged (the live view is
     * read once for several filter and prioritize calls), and takes a new one as soon as a node changes,
     * so a change counts from the next call on.
     */
    @Test
    void theSnapshotServesCallsUntilTheViewChanges() {
        MutableClusterView live = new MutableClusterView();
        live.put(node("holder", 1000, 500, 0, base, app));
        live.put(node("empty", 1000, 500, 0));
        int[] reads = {0};
        io.layerswarm.k8s.view.ClusterView counting = new io.layerswarm.k8s.view.ClusterView() {
            @Override
            public java.util.Optional<io.layerswarm.k8s.view.NodeStatus> node(String n) {
                return live.node(n);
            }

            @Override
            public java.util.Collection<io.layerswarm.k8s.view.NodeStatus> nodes() {
                reads[0]++;
                return live.nodes();
            }

            @Override
            public long version() {
                return live.version();
            }
        };
        SchedulingEngine engine = new SchedulingEngine(counting, i -> CompletableFuture.completedFuture(web),
                new LayerLocalityScorer(), Duration.ofSeconds(1));
        PodLayers pod = engine.resolve(List.of("web"));
        List<String> both = List.of("empty", "holder");
        Map<String, Double> first = engine.score(pod, both);
        assertTrue(first.get("holder") > first.get("empty"), first.toString());
        assertEquals(both, engine.filter(pod, both).passed());
        assertEquals(first, engine.score(pod, both));
        assertEquals(1, reads[0], "one read of the live view for three calls on an unchanged view");

        live.put(node("holder", 1000, 500, 0)); // evicted everything
        live.put(node("empty", 1000, 500, 0, base, app)); // and the other node pulled the image
        Map<String, Double> after = engine.score(pod, both);
        assertTrue(after.get("empty") > after.get("holder"), "the change counts at once: " + after);
        assertEquals(2, reads[0], "a new snapshot after the change");
    }

    @Test
    void aFailedImageIsReportedWithItsReason() {
        MutableClusterView view = new MutableClusterView();
        SchedulingEngine engine = new SchedulingEngine(view,
                i -> CompletableFuture.failedFuture(new IllegalStateException("cannot resolve " + i + ": no such tag")),
                new LayerLocalityScorer(), Duration.ofSeconds(1));
        PodLayers pod = engine.resolve(List.of("web"));
        assertTrue(pod.images().isEmpty());
        assertEquals(Map.of("web", "cannot resolve web: no such tag"), pod.unresolved());
        assertEquals(Map.of("a", 0.0), engine.score(pod, List.of("a")));
    }

    /**
     * Two nodes hold the image equally; the status records cannot show what was bound since. Without the
     * queued pods every pod of a burst lands on the first; with them the burst alternates.
     */
    @Test
    void aBurstOfOneImageSpreadsOverEquallyGoodNodesOnceBoundPodsCount() {
        MutableClusterView view = new MutableClusterView();
        view.put(node("a", 1000, 500, 0, base, app));
        view.put(node("b", 1000, 500, 0, base, app));
        view.put(node("c", 1000, 500, 0));
        QueuedPods queued = new QueuedPods(Clock.systemUTC(), Duration.ofMinutes(5));
        LayerResolver resolver = i -> CompletableFuture.completedFuture(web);
        SchedulingEngine stale = new SchedulingEngine(view, resolver, new LayerLocalityScorer(), Duration.ofSeconds(1));
        SchedulingEngine counting = new SchedulingEngine(view, resolver, new LayerLocalityScorer(), Duration.ofSeconds(1), queued);
        List<String> withoutQueue = new ArrayList<>();
        List<String> withQueue = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            withoutQueue.add(best(stale.score(stale.resolve(List.of("web")), List.of("a", "b", "c"))));
            String pick = best(counting.score(counting.resolve(List.of("web")), List.of("a", "b", "c")));
            withQueue.add(pick);
            queued.bound("shop/web-" + i, pick);
        }
        assertEquals(List.of("a", "a", "a", "a"), withoutQueue);
        // a and b busy: the idle c takes the third (it fetches from a or b); then all are busy and hold
        // the image's worth of score by their queues: a again
        assertEquals(List.of("a", "b", "c", "a"), withQueue);
    }

    /**
     * The testbed's d9 (2026-12-07, refactored row): the node holding the image's layers is pulling the
     * pod before, the other node of the cluster is idle and holds nothing. Divided by 2 the holder still
     * scored 4 against 0 and the pod waited 6.9 s behind that pull; now the idle node scores higher. When
     * every candidate is busy, the division alone decides, as before.
     */
    @Test
    void aBusyHolderDoesNotOutscoreAnIdleNodeButBusyNodesStillCompareByLocality() {
        Map<String, Double> raw = Map.of("holder", 8.0, "idle", 0.5);
        Map<String, Double> s = SchedulingEngine.queueAdjusted(List.of("holder", "idle"), raw, Map.of("holder", 1));
        assertTrue(s.get("idle") > s.get("holder"), s.toString());
        assertEquals(0.25, s.get("holder"), 1e-9, "capped at the idle node's 0.5, then halved");
        assertEquals(0.5, s.get("idle"), 1e-9);

        Map<String, Double> none = SchedulingEngine.queueAdjusted(List.of("holder", "idle"), Map.of("holder", 8.0),
                Map.of("holder", 1));
        assertEquals(0.0, none.get("holder"), "an idle node scoring 0 caps the busy one at 0: a tie,"
                + " kube-scheduler's LeastAllocated decides");

        Map<String, Double> allBusy = SchedulingEngine.queueAdjusted(List.of("holder", "other"),
                Map.of("holder", 8.0, "other", 2.0), Map.of("holder", 1, "other", 1));
        assertEquals(Map.of("holder", 4.0, "other", 1.0), allBusy);

        Map<String, Double> noQueue = SchedulingEngine.queueAdjusted(List.of("holder", "idle"), raw, Map.of());
        assertEquals(Map.of("holder", 8.0, "idle", 0.5), noQueue, "without queued pods the policy's scores");
    }

    /** The highest score, the first candidate on a tie (kube-scheduler breaks ties at random). */
    private static String best(Map<String, Double> scores) {
        String best = null;
        for (Map.Entry<String, Double> e : scores.entrySet()) {
            if (best == null || e.getValue() > scores.get(best)) {
                best = e.getKey();
            }
        }
        return best;
    }
}
