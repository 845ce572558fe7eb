package io.layerswarm.cache.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.policy.ImageRequest;
import io.layerswarm.cache.policy.LayerRef;
import io.layerswarm.cache.policy.Policies;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CacheSimulatorTest {

    private static ImageCatalog catalog() {
        Map<String, ImageRequest> m = new LinkedHashMap<>();
        m.put("a:1", new ImageRequest("a:1", List.of(new LayerRef("L1", 4), new LayerRef("L2", 2))));
        m.put("b:1", new ImageRequest("b:1", List.of(new LayerRef("L1", 4), new LayerRef("L3", 4))));
        return new ImageCatalog(m);
    }

    /**
     * LRU, 8 bytes per node. n1 pulls a (6 B from the registry); n2 pulls a (6 B from n1); n1 pulls b
     * (L1 local, L3 from the registry, then L2 is evicted); n1 pulls a again (L1 local, L2 from n2).
     */
    @Test
    void handComputedTwoNodeReplay() {
        List<TraceEvent> trace = List.of(new TraceEvent(1, "n1", "a:1"), new TraceEvent(2, "n2", "a:1"),
                new TraceEvent(3, "n1", "b:1"), new TraceEvent(4, "n1", "a:1"));
        SimResult r = new CacheSimulator(trace, catalog(), 2).run("lru", 8);
        assertEquals(4, r.requests());
        assertEquals(2.0 / 8, r.hitRatio(), 1e-12);
        assertEquals(8.0 / 26, r.byteHitRatio(), 1e-12);
        assertEquals(16.0 / 26, r.clusterByteHitRatio(), 1e-12);
        assertEquals(10, r.registryBytes());
        assertEquals(26, r.requestedBytes());
    }

    @Test
    void zeroCapacityFetchesEverythingFromTheRegistry() {
        List<TraceEvent> trace = List.of(new TraceEvent(1, "n1", "a:1"), new TraceEvent(2, "n1", "a:1"));
        CacheSimulator sim = new CacheSimulator(trace, catalog(), 1);
        for (String p : Policies.NAMES) {
            SimResult r = sim.run(p, 0);
            assertEquals(0, r.hitRatio(), p);
            assertEquals(12, r.registryBytes(), p);
        }
    }

    @Test
    void everyPolicyGivesConsistentNumbersOnAGeneratedTrace() {
        ImageCatalog base = catalog();
        TraceGenerator.Generated g = TraceGenerator.generate(sha(base), TraceGenerator.Params.defaults().with(7, 4, 3000));
        CacheSimulator sim = new CacheSimulator(g.events(), g.images(), 4);
        for (String p : Policies.NAMES) {
            SimResult r = sim.run(p, 300_000_000L);
            assertTrue(r.hitRatio() > 0 && r.hitRatio() < 1, p + " " + r);
            assertTrue(r.byteHitRatio() <= r.clusterByteHitRatio(), p + " " + r);
            assertEquals(r.registryBytes(), Math.round(r.requestedBytes() * (1 - r.clusterByteHitRatio())), p);
        }
    }

    /** The base catalog with real-looking digests (the generator derives sha256 digests). */
    static ImageCatalog sha(ImageCatalog c) {
        Map<String, ImageRequest> m = new LinkedHashMap<>();
        for (String n : c.names()) {
            m.put(n, new ImageRequest(n, c.get(n).layers().stream()
                    .map(l -> new LayerRef(io.layerswarm.oci.Digest.sha256(l.key().getBytes()).toString(), l.size() * 10_000_000L))
                    .toList()));
        }
        return new ImageCatalog(m);
    }

    @Test
    void inconsistentInputIsRejected() {
        List<TraceEvent> unknown = List.of(new TraceEvent(1, "n1", "nope:1"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CacheSimulator(unknown, catalog(), 1));
        assertTrue(e.getMessage().contains("nope:1"));
        List<TraceEvent> three = List.of(new TraceEvent(1, "n1", "a:1"), new TraceEvent(1, "n2", "a:1"),
                new TraceEvent(1, "n3", "a:1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CacheSimulator(three, catalog(), 2))
                .getMessage().contains("3 nodes"));
        assertThrows(IllegalArgumentException.class, () -> new CacheSimulator(three, catalog(), 3).run("fifo", 1));
    }

    @Test
    void clusterAwareArcKeepsMoreDistinctBytesInTheCluster() {
        TraceGenerator.Generated g = TraceGenerator.generate(TraceGeneratorTest.base(),
                TraceGenerator.Params.defaults().with(11, 8, 6000));
        CacheSimulator sim = new CacheSimulator(g.events(), g.images(), 8);
        for (long cap : new long[] {300_000_000L, 600_000_000L}) {
            SimResult arc = sim.run("arc", cap);
            SimResult cluster = sim.run("cluster-arc", cap);
            assertTrue(cluster.clusterByteHitRatio() > arc.clusterByteHitRatio(), arc + " vs " + cluster);
            assertTrue(cluster.registryBytes() < arc.registryBytes());
        }
    }
}
