package io.layerswarm.cache.policy;

import static io.layerswarm.cache.policy.PolicyTestSupport.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ImageGranularityPolicyTest {

    @Test
    void imageLruEvictsWholeImagesAndKeepsSharedLayersWhileReferenced() {
        ImageGranularityPolicy p = ImageGranularityPolicy.imageLru(10);
        assertEquals(List.of(), p.request(image("app1:v1", "base", 4, "x", 2)));
        assertEquals(List.of(), p.request(image("app2:v1", "base", 4, "y", 2)));
        assertEquals(8, p.weightedSize(), "base counted once");
        // 13 > 10: app1 goes (only x is freed, base is still referenced), 11 > 10: app2 goes too.
        assertEquals(List.of("x", "base", "y"), p.request(image("other:1", "z", 5)));
        assertEquals(Set.of("z"), p.residentKeys());
        assertEquals(List.of("other:1"), p.residentImages());
    }

    @Test
    void imageLruOrderFollowsDeployments() {
        ImageGranularityPolicy p = ImageGranularityPolicy.imageLru(10);
        p.request(image("a:1", "a1", 4));
        p.request(image("b:1", "b1", 4));
        p.request(image("a:1", "a1", 4)); // a:1 used again
        assertEquals(List.of("b1"), p.request(image("c:1", "c1", 4)));
    }

    @Test
    void kubeletGcStartsAboveHighThresholdAndFreesDownToLow() {
        ImageGranularityPolicy gc = ImageGranularityPolicy.kubeletGc(100);
        gc.request(image("i1:1", "l1", 30));
        gc.request(image("i2:1", "l2", 30));
        assertEquals(List.of(), gc.request(image("i5:1", "l5", 24)), "84% <= 85%: no collection");
        assertEquals(84, gc.weightedSize());
        // 90% > 85%: free least recently used images until <= 80%.
        assertEquals(List.of("l1"), gc.request(image("i3:1", "l3", 6)));
        assertEquals(60, gc.weightedSize());
        ImageGranularityPolicy lru = ImageGranularityPolicy.imageLru(100);
        for (var r : List.of(image("i1:1", "l1", 30), image("i2:1", "l2", 30), image("i5:1", "l5", 24),
                image("i3:1", "l3", 6))) {
            lru.request(r);
        }
        assertEquals(90, lru.weightedSize(), "image LRU only collects above 100%");
    }

    @Test
    void imageInUseIsNotCollected() {
        ImageGranularityPolicy gc = ImageGranularityPolicy.kubeletGc(100);
        gc.request(image("running:1", "r", 50));
        gc.pin("r"); // a running container uses the image
        // 90% > 85%: the least recent image is in use, so the collector takes the next one.
        assertEquals(List.of("n"), gc.request(image("new:1", "n", 40)));
        assertTrue(gc.contains("r"));
        assertEquals(List.of(), gc.unpin("r"), "50% is below the high threshold");
        assertEquals(List.of("r"), gc.request(image("newer:1", "m", 40)));
    }

    @Test
    void restoreKeepsImagesAndAdoptsUnknownBlobs() {
        ImageGranularityPolicy p = ImageGranularityPolicy.imageLru(100);
        p.request(image("a:1", "base", 10, "a", 5));
        p.request(image("b:1", "base", 10, "b", 5));
        PolicyState state = p.exportState();
        ImageGranularityPolicy q = ImageGranularityPolicy.imageLru(100);
        Map<String, Long> disk = new LinkedHashMap<>(Map.of("base", 10L, "b", 5L, "orphan", 7L));
        assertEquals(List.of(), q.restore(state, disk));
        assertEquals(Set.of("base", "b", "orphan"), q.residentKeys());
        assertEquals(List.of("a:1", "b:1", "blob:orphan"), q.residentImages());
        assertEquals(22, q.weightedSize());
        // a:1 (now only base) is least recent; evicting it frees nothing since b:1 shares base.
        assertEquals(List.of("base", "b"), q.setCapacity(10));
    }
}
