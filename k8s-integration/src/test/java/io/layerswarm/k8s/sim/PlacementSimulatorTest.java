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

    /**
     * With measured links the scorer sees only what nodes measured, but the deployments still move the same
     * bytes: without caches every byte from the registry, with roomy ones each layer once.
     */
    @Test
    void measuredLinksKeepTheByteAccounting() {
        long distinct = (100 + 50 + 60 + 200) * MIB;
        for (int probe : new int[] {0, (int) MIB}) {
            PlacementSimulator measured = sim.measuredLinks(4 * (int) MIB, probe);
            for (String s : List.of("layer-network", "predicted-time")) {
                PlacementResult none = measured.run(s, 0);
                assertEquals(0, none.peerBytes(), s + " probe " + probe);
                assertEquals(sim.run(s, 0).registryBytes(), none.registryBytes(), s + " probe " + probe);
                PlacementResult roomy = measured.run(s, 10_000 * MIB);
                assertEquals(distinct, roomy.registryBytes(), s + " probe " + probe);
                assertTrue(roomy.meanPredictedSeconds() > 0 && roomy.maxPodsOnANode() <= 4, roomy.toString());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> sim.measuredLinks(0, 0));
        assertThrows(IllegalArgumentException.class, () -> sim.measuredLinks(1, -1));
    }

    /** A simulated node publishes a link only once it measured a throughput, with the ping as its RTT. */
    @Test
    void simulatedMetersPublishWhatANodeWouldMeasure() {
        LinkEstimate truth = LinkEstimate.mbps(40, 60);
        SimulatedMeters off = new SimulatedMeters(2, 4 * (int) MIB, 0);
        assertEquals(null, off.published(0, SimulatedMeters.REGISTRY), "nothing measured yet");
        assertTrue(!off.probeIfUnmeasured(0, SimulatedMeters.REGISTRY, truth), "probes off");
        assertEquals(null, off.published(0, SimulatedMeters.REGISTRY), "a ping alone publishes nothing");
        off.fetched(0, SimulatedMeters.REGISTRY, truth, 40 * MIB);
        LinkEstimate fetched = off.published(0, SimulatedMeters.REGISTRY);
        assertEquals(60, fetched.rttMillis(), 1e-9, "the ping's RTT");
        double perPiece = 4 * MIB / truth.seconds(4 * MIB);
        assertEquals(perPiece, fetched.bytesPerSecond(), perPiece * 1e-6, "the rate of a piece, its round trip included");
        assertEquals(null, off.published(1, SimulatedMeters.REGISTRY), "per node");

        SimulatedMeters on = new SimulatedMeters(1, 4 * (int) MIB, (int) MIB);
        assertTrue(on.probeIfUnmeasured(0, "node-1", truth));
        assertTrue(!on.probeIfUnmeasured(0, "node-1", truth), "measured links are not probed again");
        double perProbe = MIB / truth.seconds(MIB);
        assertEquals(perProbe, on.published(0, "node-1").bytesPerSecond(), perProbe * 1e-6);
        assertTrue(perProbe < truth.bytesPerSecond(), "a small read sees the round trip: " + perProbe);
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
