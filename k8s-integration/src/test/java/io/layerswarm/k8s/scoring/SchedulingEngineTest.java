package io.layerswarm.k8s.scoring;

import static io.layerswarm.k8s.scoring.Fixtures.image;
import static io.layerswarm.k8s.scoring.Fixtures.layer;
import static io.layerswarm.k8s.scoring.Fixtures.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.view.MutableClusterView;
import java.time.Duration;
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
}
