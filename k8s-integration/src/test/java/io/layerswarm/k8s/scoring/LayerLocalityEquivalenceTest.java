package io.layerswarm.k8s.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.view.ClusterSnapshot;
import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * LayerLocality and the cache-fit filter now sum each layer's holders instead of asking every candidate
 * about every layer ({@link HeldLayers}); their results must be the very doubles and reasons of the
 * per-candidate scan they replaced, kept here as {@link #referenceScore} and {@link #referenceFilter}.
 * Random clusters from fixed seeds: unbounded, empty, nearly full and overflowing caches, nodes holding
 * nothing or layers the pod does not use, duplicate layers across images, unknown candidates, both on a
 * snapshot and on the live view.
 */
class LayerLocalityEquivalenceTest {
    private static final long[] CAPACITIES = {Long.MAX_VALUE, 0, 1L << 20, 1L << 30, 1L << 40};

    @Test
    void holderSumsScoreAndFilterExactlyAsThePerCandidateScan() {
        int nonZeroHits = 0;
        int failedNodes = 0;
        int passedNodes = 0;
        for (long seed = 1; seed <= 400; seed++) {
            Random r = new Random(seed);
            List<LayerInfo> layers = layers(r);
            MutableClusterView live = cluster(r, layers);
            PodLayers pod = Fixtures.randomPod(r, layers, List.of("r.example"), true);
            List<String> candidates = Fixtures.randomCandidates(r, live);
            double freeWeight = r.nextInt(4) == 0 ? 0 : r.nextDouble();
            LayerLocalityScorer scorer = new LayerLocalityScorer(freeWeight);
            for (ClusterView view : List.of(ClusterSnapshot.of(live), live)) {
                Map<String, Double> expected = referenceScore(pod, candidates, view, freeWeight);
                Map<String, Double> actual = scorer.score(pod, candidates, view);
                assertEquals(expected, actual, "seed " + seed);
                assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()), "candidate order, seed " + seed);
            }
            SchedulingEngine engine = new SchedulingEngine(live, image -> CompletableFuture.failedFuture(
                    new IllegalStateException("not used")), scorer, Duration.ofSeconds(1));
            SchedulingEngine.FilterOutcome expected = referenceFilter(pod, candidates, live);
            SchedulingEngine.FilterOutcome actual = engine.filter(pod, candidates);
            assertEquals(expected.passed(), actual.passed(), "seed " + seed);
            assertEquals(expected.failed(), actual.failed(), "seed " + seed);
            assertEquals(List.copyOf(expected.failed().keySet()), List.copyOf(actual.failed().keySet()), "seed " + seed);
            nonZeroHits += (int) candidates.stream().map(live::node).flatMap(Optional::stream)
                    .filter(s -> pod.distinctLayers().stream().anyMatch(l -> s.holds(l.digest()))).count();
            failedNodes += expected.failed().size();
            passedNodes += expected.passed().size();
        }
        // the generator must exercise holders, fits and misfits, or the test proves little
        assertTrue(nonZeroHits > 1000, "candidates holding some pod layer: " + nonZeroHits);
        assertTrue(failedNodes > 300, "filtered-out nodes: " + failedNodes);
        assertTrue(passedNodes > 1000, "passing nodes: " + passedNodes);
    }

    private static List<LayerInfo> layers(Random r) {
        List<LayerInfo> out = new ArrayList<>();
        int n = 1 + r.nextInt(15);
        for (int i = 0; i < n; i++) {
            // sizes from bytes to gigabytes, with zero-byte layers now and then
            long size = r.nextInt(10) == 0 ? 0 : 1 + (long) (r.nextDouble() * (1L << (10 + r.nextInt(22))));
            out.add(new LayerInfo("sha256:" + "%064x".formatted(i), size));
        }
        return out;
    }

    private static MutableClusterView cluster(Random r, List<LayerInfo> layers) {
        int n = 1 + r.nextInt(30);
        double holdDensity = r.nextDouble() * 0.8;
        MutableClusterView view = new MutableClusterView();
        for (int i = 0; i < n; i++) {
            Map<String, Long> held = new LinkedHashMap<>();
            for (LayerInfo l : layers) {
                if (r.nextDouble() < holdDensity) {
                    held.put(l.digest(), l.size());
                }
            }
            if (r.nextInt(3) == 0) {
                held.put("sha256:" + "f".repeat(63) + r.nextInt(10), 1L << 20); // a layer no pod here uses
            }
            long capacity = CAPACITIES[r.nextInt(CAPACITIES.length)];
            long bounded = capacity == Long.MAX_VALUE ? 1L << 41 : capacity;
            long free = bounded == 0 ? 0 : (long) (r.nextDouble() * bounded);
            long evictable = r.nextInt(3) == 0 ? 0 : (long) (r.nextDouble() * (bounded - free));
            view.put(new NodeStatus("n" + i, held, capacity, free, evictable, Map.of(), Map.of()));
        }
        return view;
    }



    // ---- the code before the holder sums (same arithmetic): every candidate asked about every layer ----

    static Map<String, Double> referenceScore(PodLayers pod, List<String> candidates, ClusterView view, double freeWeight) {
        List<LayerInfo> layers = pod.distinctLayers();
        int totalNodes = Math.max(1, Math.max(view.nodes().size(), candidates.size()));
        Map<String, Integer> holders = new LinkedHashMap<>();
        for (LayerInfo l : layers) {
            holders.put(l.digest(), view.holders(l.digest()));
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (String node : candidates) {
            NodeStatus s = view.node(node).orElse(null);
            out.put(node, s == null ? 0.0 : NodeScorer.MAX * referenceRaw(s, layers, holders, totalNodes, freeWeight)
                    / (1 + freeWeight));
        }
        return out;
    }

    private static double referenceRaw(NodeStatus s, List<LayerInfo> layers, Map<String, Integer> holders, int totalNodes,
                                       double freeWeight) {
        long total = 0;
        long held = 0;
        double heldSpread = 0;
        for (LayerInfo l : layers) {
            total += l.size();
            if (s.holds(l.digest())) {
                held += l.size();
                heldSpread += l.size() * (double) holders.get(l.digest()) / totalNodes;
            }
        }
        double hit = total == 0 ? 0 : (double) held / total;
        double spread = held == 0 ? 0 : heldSpread / held;
        return hit * spread + freeWeight * LayerLocalityScorer.cacheFree(s, total - held);
    }

    static SchedulingEngine.FilterOutcome referenceFilter(PodLayers pod, List<String> candidates, ClusterView view) {
        CacheFitFilter filter = new CacheFitFilter();
        List<String> passed = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        ClusterView snapshot = ClusterSnapshot.of(view);
        for (String node : candidates) {
            Optional<NodeStatus> s = snapshot.node(node);
            Optional<String> reason = s.isEmpty() ? Optional.empty() : filter.check(pod, s.get());
            if (reason.isPresent()) {
                failed.put(node, reason.get());
            } else {
                passed.add(node);
            }
        }
        return new SchedulingEngine.FilterOutcome(passed, failed);
    }
}
