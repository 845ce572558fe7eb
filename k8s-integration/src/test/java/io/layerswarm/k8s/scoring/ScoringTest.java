package io.layerswarm.k8s.scoring;

import static io.layerswarm.k8s.scoring.Fixtures.MIB;
import static io.layerswarm.k8s.scoring.Fixtures.image;
import static io.layerswarm.k8s.scoring.Fixtures.layer;
import static io.layerswarm.k8s.scoring.Fixtures.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.MutableClusterView;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScoringTest {
    private final LayerInfo base = layer("base", 80);
    private final LayerInfo libs = layer("libs", 120);
    private final LayerInfo app = layer("app", 40);
    private final PodLayers pod = PodLayers.of(List.of(image("web", base, libs, app)));
    private final List<String> abc = List.of("a", "b", "c");

    @Test
    void imageLocalityFollowsTheInTreeFormula() {
        ImageLayers big = image("big", layer("x", 300), layer("y", 200)); // 500 MiB
        MutableClusterView view = new MutableClusterView();
        view.put(node("a", 2000, 1000, 0, big.layers().toArray(LayerInfo[]::new)));
        view.put(node("b", 2000, 1000, 0, big.layers().toArray(LayerInfo[]::new)));
        view.put(node("c", 2000, 1000, 0, big.layers().get(0)));
        view.put(node("d", 2000, 1000, 0));
        Map<String, Double> s = new ImageLocalityScorer().score(PodLayers.of(List.of(big)), List.of("a", "b", "c", "d"), view);
        // 500 MiB x 2/4 = 250 MiB; (250 - 23) / (1000 - 23) x 100 = 23 (integer), /10 on the wire scale
        assertEquals(2.3, s.get("a"), 1e-9);
        assertEquals(2.3, s.get("b"), 1e-9);
        assertEquals(0.0, s.get("c"), 1e-9, "a partial image does not count in-tree");
        assertEquals(0.0, s.get("d"), 1e-9);
        assertEquals(0, ImageLocalityScorer.scale(10 * MIB, 1));
        assertEquals(100, ImageLocalityScorer.scale(5000 * MIB, 2));
        assertEquals(50, ImageLocalityScorer.scale(ImageLocalityScorer.MIN_THRESHOLD
                + (2000 * MIB - ImageLocalityScorer.MIN_THRESHOLD) / 2, 2));
    }

    @Test
    void layerLocalityRanksTheHolderFirstAndCountsPartialImages() {
        MutableClusterView view = new MutableClusterView();
        view.put(node("a", 1000, 500, 0, base, libs, app));
        view.put(node("b", 1000, 500, 0, base, libs));
        view.put(node("c", 1000, 500, 0));
        Map<String, Double> s = new LayerLocalityScorer().score(pod, abc, view);
        assertTrue(s.get("a") > s.get("b") && s.get("b") > s.get("c"), s.toString());
        // a: hit 1, spread (80x2 + 120x2 + 40x1)/3/240 = 0.6111, free (500-0)/1000 = 0.5 x 0.25; /1.25 x 10
        assertEquals(10 * (1.0 * (80 * 2 + 120 * 2 + 40) / 3.0 / 240 + 0.25 * 0.5) / 1.25, s.get("a"), 1e-9);
        // c holds nothing: only headroom after taking 240 MiB
        assertEquals(10 * 0.25 * (260.0 / 1000) / 1.25, s.get("c"), 1e-9);
    }

    @Test
    void aNodeThatLostItsLayersStopsRankingFirst() {
        MutableClusterView view = new MutableClusterView();
        view.put(node("a", 1000, 500, 0, base, libs, app));
        view.put(node("b", 1000, 500, 0, base, libs, app));
        view.put(node("c", 1000, 500, 0));
        NodeScorer scorer = ScoringPolicies.create("layer-network", DeploymentTimeModel.edgeDefaults());
        assertTrue(scorer.score(pod, abc, view).get("a") >= scorer.score(pod, abc, view).get("c"));
        view.put(node("a", 1000, 740, 0)); // evicted everything, announced
        Map<String, Double> s = scorer.score(pod, abc, view);
        assertTrue(s.get("b") > s.get("a"), s.toString());
    }

    @Test
    void filterFailsANodeWhoseCacheCannotTakeTheMissingBytes() {
        MutableClusterView view = new MutableClusterView();
        view.put(node("a", 1000, 10, 0, base, libs, app));
        view.put(node("full", 1000, 100, 50, base));
        view.put(node("roomy", 1000, 100, 100, base));
        SchedulingEngine engine = new SchedulingEngine(view, i -> null, new LayerLocalityScorer(), java.time.Duration.ofSeconds(1));
        SchedulingEngine.FilterOutcome out = engine.filter(pod, List.of("a", "full", "roomy", "unknown"));
        assertEquals(List.of("a", "roomy", "unknown"), out.passed());
        assertEquals("layerswarm: layer cache cannot take the pod's 160.0 MiB of missing layers: 100.0 MiB free + 50.0 MiB evictable (unpinned)",
                out.failed().get("full"));
    }

    @Test
    void predictedTimeUsesTheBestSourcePerLayer() {
        MutableClusterView view = new MutableClusterView();
        LinkEstimate slow = LinkEstimate.mbps(8, 100); // 1 MB/s
        LinkEstimate lan = LinkEstimate.mbps(800, 1);  // 100 MB/s
        view.put(node("a", 1000, 500, 0, Map.of("*", slow), Map.of("b", lan), base));
        view.put(node("b", 1000, 500, 0, Map.of("*", slow), Map.of("a", lan), libs, app));
        view.put(node("c", 1000, 500, 0, Map.of("*", slow), Map.of(), base, libs, app));
        DeploymentTimeModel model = DeploymentTimeModel.edgeDefaults();
        DeploymentTimeModel.Prediction pa = model.predict(pod, view.node("a").orElseThrow(), view);
        assertEquals(0, pa.bytes(SourceKind.REGISTRY));
        assertEquals(160 * MIB, pa.bytes(SourceKind.PEER));
        assertEquals(80 * MIB, pa.bytes(SourceKind.LOCAL));
        assertEquals(lan.seconds(160 * MIB), pa.seconds(), 1e-9, "both missing layers queue on the one fast peer");
        assertEquals(0, model.predict(pod, view.node("c").orElseThrow(), view).seconds(), 1e-9);
        Map<String, Double> s = new PredictedTimeScorer(model).score(pod, abc, view);
        assertEquals(10.0, s.get("c"), 1e-9);
        // a fetches 160 MiB from b over the LAN, b fetches 80 MiB from a: both far better than the registry
        assertEquals(10 * 1 / (lan.seconds(160 * MIB) + 1), s.get("a"), 1e-9);
        assertEquals(10 * 1 / (lan.seconds(80 * MIB) + 1), s.get("b"), 1e-9);
    }

    @Test
    void predictedTimeSpreadsLayersOverSources() {
        MutableClusterView view = new MutableClusterView();
        LinkEstimate lan = LinkEstimate.mbps(80, 1); // 10 MB/s each
        view.put(node("t", 1000, 500, 0, Map.of("*", LinkEstimate.mbps(8, 100)), Map.of("p", lan, "q", lan)));
        view.put(node("p", 1000, 500, 0, base, libs, app));
        view.put(node("q", 1000, 500, 0, base, libs, app));
        DeploymentTimeModel.Prediction p = DeploymentTimeModel.edgeDefaults().predict(pod, view.node("t").orElseThrow(), view);
        // libs (120) alone on one peer, base + app (120) on the other
        assertEquals(lan.seconds(120 * MIB), p.seconds(), 1e-9);
    }

    @Test
    void networkPerformancePrefersTheBetterUplink() {
        MutableClusterView view = new MutableClusterView();
        view.put(node("fast", 1000, 500, 0, Map.of("*", LinkEstimate.mbps(100, 20)), Map.of()));
        view.put(node("slow", 1000, 500, 0, Map.of("*", LinkEstimate.mbps(10, 20)), Map.of()));
        Map<String, Double> s = new NetworkPerformanceScorer().score(pod, List.of("fast", "slow", "ghost"), view);
        assertEquals(10.0, s.get("fast"), 1e-9);
        assertTrue(s.get("slow") < 1.5 && s.get("slow") > 0.5, s.toString());
        assertEquals(0.0, s.get("ghost"));
    }

    @Test
    void unknownPolicyNameIsAClearError() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ScoringPolicies.create("best", DeploymentTimeModel.edgeDefaults()));
        assertTrue(e.getMessage().contains("image-locality"), e.getMessage());
    }
}
