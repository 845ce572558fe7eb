package io.layerswarm.k8s.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.policy.ImageRequest;
import io.layerswarm.cache.policy.LayerRef;
import io.layerswarm.cache.sim.ImageCatalog;
import io.layerswarm.cache.sim.TraceEvent;
import io.layerswarm.k8s.view.LinkEstimate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlacementSimulatorTest {
    private static final long MIB = 1 << 20;

    private static ImageCatalog catalog() {
        Map<String, ImageRequest> m = new LinkedHashMap<>();
        LayerRef base = new LayerRef("sha256:base", 100 * MIB);
        m.put("a:1", new ImageRequest("a:1", List.of(base, new LayerRef("sha256:a", 50 * MIB))));
        m.put("b:1", new ImageRequest("b:1", List.of(base, new LayerRef("sha256:b", 60 * MIB))));
        m.put("c:1", new ImageRequest("c:1", List.of(new LayerRef("sha256:c", 200 * MIB))));
        return new ImageCatalog(m);
    }

    private static List<TraceEvent> trace() {
        List<TraceEvent> t = new ArrayList<>();
        String[] imgs = {"a:1", "b:1", "a:1", "c:1", "b:1", "a:1"};
        for (int i = 0; i < 60; i++) {
            t.add(new TraceEvent(i, "n" + (i * 7 % 4), imgs[i % imgs.length]));
        }
        return t;
    }

    private final PlacementSimulator sim = new PlacementSimulator(trace(), catalog(), 4, 4, 8, "lru",
            List.of(LinkEstimate.mbps(10, 80), LinkEstimate.mbps(40, 40)), LinkEstimate.mbps(400, 2));

    @Test
    void withoutCachesEveryByteComesFromTheRegistry() {
        for (String s : List.of("trace", "image-locality", "layer-locality", "predicted-time")) {
            PlacementResult r = sim.run(s, 0);
            assertEquals(0, r.layerHitRatio(), s);
            long all = 0;
            for (TraceEvent e : trace()) {
                all += catalog().get(e.image()).layers().stream().mapToLong(LayerRef::size).sum();
            }
            assertEquals(all, r.registryBytes() + r.peerBytes(), s);
            assertEquals(0, r.peerBytes(), s);
        }
    }

    @Test
    void withRoomyCachesTheRegistrySendsEachLayerOnceAndLocalityHits() {
        long distinct = (100 + 50 + 60 + 200) * MIB;
        PlacementResult trace = sim.run("trace", 10_000 * MIB);
        PlacementResult layer = sim.run("layer-locality", 10_000 * MIB);
        PlacementResult time = sim.run("predicted-time", 10_000 * MIB);
        for (PlacementResult r : List.of(trace, layer, time)) {
            assertEquals(distinct, r.registryBytes(), r.scoring());
            assertTrue(r.maxPodsOnANode() <= 4, r.toString());
        }
        assertTrue(layer.layerHitRatio() > trace.layerHitRatio(), layer + " vs " + trace);
        assertTrue(time.meanPredictedSeconds() <= trace.meanPredictedSeconds(), time + " vs " + trace);
    }

    @Test
    void badConfigurationsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new PlacementSimulator(trace(), catalog(), 2, 2, 4, "lru",
                List.of(LinkEstimate.mbps(10, 80)), LinkEstimate.mbps(400, 2)));
        assertThrows(IllegalArgumentException.class, () -> new PlacementSimulator(List.of(new TraceEvent(0, "n", "zzz:1")),
                catalog(), 4, 4, 8, "lru", List.of(LinkEstimate.mbps(10, 80)), LinkEstimate.mbps(400, 2)));
        assertThrows(IllegalArgumentException.class, () -> new PlacementSimulator(trace(), catalog(), 4, 4, 8, "fifo",
                List.of(LinkEstimate.mbps(10, 80)), LinkEstimate.mbps(400, 2)));
        assertThrows(IllegalArgumentException.class, () -> sim.run("best", 0));
    }
}
