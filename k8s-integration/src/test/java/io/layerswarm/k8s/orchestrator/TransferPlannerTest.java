package io.layerswarm.k8s.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.scoring.ImageLayers;
import io.layerswarm.k8s.scoring.LayerInfo;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.scoring.SourceKind;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TransferPlannerTest {
    private static final long MIB = 1 << 20;
    private final LayerInfo big = new LayerInfo("sha256:big", 200 * MIB);
    private final LayerInfo small = new LayerInfo("sha256:small", 10 * MIB);
    private final PodLayers pod = PodLayers.of(List.of(new ImageLayers("r/app:1", "r", "sha256:m", List.of(big, small))));
    private final TransferPlanner planner = new TransferPlanner(3, LinkEstimate.mbps(100, 2), LinkEstimate.mbps(20, 50));

    private static NodeStatus node(String name, Map<String, LinkEstimate> peers, double regMbps, LayerInfo... held) {
        Map<String, Long> layers = new LinkedHashMap<>();
        for (LayerInfo l : held) {
            layers.put(l.digest(), l.size());
        }
        return new NodeStatus(name, layers, 10_000 * MIB, 10_000 * MIB, 0, Map.of("*", LinkEstimate.mbps(regMbps, 50)), peers);
    }

    @Test
    void replicasShareOneRegistryFetchPerLayer() {
        MutableClusterView view = new MutableClusterView();
        view.put(node("a", Map.of(), 10));
        view.put(node("b", Map.of(), 40));
        view.put(node("c", Map.of(), 20));
        TransferPlan plan = planner.plan(pod, List.of("a", "b", "c"), view);
        assertEquals(6, plan.transfers().size());
        assertEquals(210 * MIB, plan.registryBytes(), "the uplink carries each layer once");
        for (Transfer t : plan.transfers()) {
            if (t.kind() == SourceKind.REGISTRY) {
                assertEquals("b", t.target(), "the best registry link fetches");
                assertEquals(0, t.wave());
            } else {
                assertTrue(t.wave() >= 1, "copies wait for the fetch: " + t);
            }
        }
    }

    @Test
    void bestMeasuredPathWinsAndLocalLayersAreSkipped() {
        MutableClusterView view = new MutableClusterView();
        view.put(node("t", Map.of("slow", LinkEstimate.mbps(50, 5), "fast", LinkEstimate.mbps(900, 1)), 10, small));
        view.put(node("slow", Map.of(), 10, big, small));
        view.put(node("fast", Map.of(), 10, big));
        TransferPlan plan = planner.plan(pod, List.of("t"), view);
        assertEquals(List.of(new Transfer("t", big.digest(), big.size(), SourceKind.PEER, "fast", 0,
                LinkEstimate.mbps(900, 1).seconds(big.size()))), plan.transfers());
        assertEquals(0, plan.registryBytes());
    }

    @Test
    void noSourceUploadsMoreThanThreeAtOnce() {
        MutableClusterView view = new MutableClusterView();
        view.put(node("seed", Map.of(), 10, big, small));
        List<String> targets = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            targets.add("n" + i);
            view.put(node("n" + i, Map.of(), 10));
        }
        TransferPlan plan = planner.plan(pod, targets, view);
        assertEquals(24, plan.transfers().size());
        assertEquals(0, plan.registryBytes(), "the cluster holds everything");
        Map<String, Integer> perSourceWave = new HashMap<>();
        for (Transfer t : plan.transfers()) {
            perSourceWave.merge(t.source() + "#" + t.wave(), 1, Integer::sum);
        }
        assertTrue(perSourceWave.values().stream().allMatch(n -> n <= 3), perSourceWave.toString());
        Set<String> got = new HashSet<>();
        for (Transfer t : plan.transfers()) {
            got.add(t.target() + " " + t.layer());
        }
        assertEquals(24, got.size(), "every target gets every layer exactly once");
        assertTrue(plan.transfers().stream().anyMatch(t -> !t.source().equals("seed")), "new copies serve later waves");
    }

    @Test
    void sevenReplicasOfAnImageNoOneHoldsTakeEachLayerFromTheRegistryOnce() {
        MutableClusterView view = new MutableClusterView();
        List<String> targets = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            targets.add("r" + i);
            view.put(node("r" + i, Map.of(), 10 + i));
        }
        TransferPlan plan = planner.plan(pod, targets, view);
        assertEquals(14, plan.transfers().size());
        assertEquals(big.size() + small.size(), plan.registryBytes(), "the uplink carries each layer once");
        assertUploadSlotsRespected(plan);
        Set<String> got = new HashSet<>();
        for (Transfer t : plan.transfers()) {
            assertTrue(got.add(t.target() + " " + t.layer()), "once per target and layer: " + t);
            if (t.kind() == SourceKind.REGISTRY) {
                assertEquals("r6", t.target(), "the best registry link fetches");
            }
        }
    }

    @Test
    void aLateReplicaCopiesFromTheSiblingsStillFetching() {
        MutableClusterView view = new MutableClusterView();
        for (String n : List.of("a", "b", "c", "late")) {
            view.put(node(n, Map.of(), 10));
        }
        TransferPlan alone = planner.plan(pod, List.of("late"), view);
        assertEquals(big.size() + small.size(), alone.registryBytes(), "without the siblings: the registry");
        TransferPlan plan = planner.plan(pod, List.of("late"), view, Set.of("a", "b", "c", "ghost"));
        assertEquals(2, plan.transfers().size());
        assertEquals(0, plan.registryBytes(), "the siblings' fetch in flight serves the late replica");
        assertEquals(Set.of("a", "b", "c"), plan.alsoFetching(), "the late replica connects to all of them");
        for (Transfer t : plan.transfers()) {
            assertEquals(SourceKind.PEER, t.kind(), t.toString());
            assertTrue(Set.of("a", "b", "c").contains(t.source()), "a sibling in the view: " + t);
            assertEquals(1, t.wave(), "after the sibling's own fetch: " + t);
        }
    }

    private static void assertUploadSlotsRespected(TransferPlan plan) {
        Map<String, Integer> perSourceWave = new HashMap<>();
        for (Transfer t : plan.transfers()) {
            if (t.kind() == SourceKind.PEER) {
                perSourceWave.merge(t.source() + "#" + t.wave(), 1, Integer::sum);
            }
        }
        assertTrue(perSourceWave.values().stream().allMatch(n -> n <= 3), perSourceWave.toString());
    }

    @Test
    void unknownTargetIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> planner.plan(pod, List.of("ghost"), new MutableClusterView()));
        assertTrue(e.getMessage().contains("ghost"));
    }
}
