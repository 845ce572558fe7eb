package io.layerswarm.cache.policy;

import static io.layerswarm.cache.policy.PolicyTestSupport.layer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TinyLfuPolicyTest {
    private static final long KIB = 1024;

    @Test
    void frequentLayerSurvivesAScanThatFlushesLru() {
        TinyLfuPolicy tiny = new TinyLfuPolicy(100 * KIB);
        LruPolicy lru = new LruPolicy(100 * KIB);
        for (int i = 0; i < 20; i++) {
            tiny.request(layer("hot", 10 * KIB));
            lru.request(layer("hot", 10 * KIB));
        }
        for (int i = 0; i < 200; i++) {
            tiny.request(layer("scan" + i, 10 * KIB));
            lru.request(layer("scan" + i, 10 * KIB));
            assertTrue(tiny.weightedSize() <= 100 * KIB, "over capacity at " + i);
        }
        assertTrue(tiny.contains("hot"), "W-TinyLFU keeps the frequent layer");
        assertFalse(lru.contains("hot"), "LRU loses it to the scan");
    }

    @Test
    void evictionsMatchResidencyAndPinnedLayerStays() {
        TinyLfuPolicy tiny = new TinyLfuPolicy(50 * KIB);
        tiny.request(layer("pinned", 10 * KIB));
        tiny.pin("pinned");
        List<String> evicted = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            List<String> out = tiny.request(layer("k" + (i % 30), 10 * KIB));
            evicted.addAll(out);
            for (String k : out) {
                assertFalse(tiny.contains(k));
            }
            assertTrue(tiny.weightedSize() <= 60 * KIB);
        }
        assertFalse(evicted.contains("pinned"));
        assertTrue(tiny.contains("pinned"));
        assertFalse(evicted.isEmpty());
        tiny.unpin("pinned");
        assertTrue(tiny.weightedSize() <= 50 * KIB, "unpinned weight counts again");
        List<String> shrink = tiny.setCapacity(0);
        assertEquals(0, tiny.weightedSize());
        assertEquals(tiny.residentKeys().size(), 0);
        assertFalse(shrink.isEmpty());
    }
}
