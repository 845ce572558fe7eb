package io.layerswarm.cache.policy;

import static io.layerswarm.cache.policy.PolicyTestSupport.layer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LruPolicyTest {

    @Test
    void evictsLeastRecentlyUsedByBytes() {
        LruPolicy lru = new LruPolicy(10);
        assertEquals(List.of(), lru.request(layer("a", 4)));
        assertEquals(List.of(), lru.request(layer("b", 4)));
        assertEquals(List.of(), lru.request(layer("a", 4))); // a becomes most recent
        assertEquals(List.of("b"), lru.request(layer("c", 4)));
        assertEquals(Set.of("a", "c"), lru.residentKeys());
        assertEquals(8, lru.weightedSize());
        assertEquals(List.of("a", "c"), lru.request(layer("d", 9))); // needs 9 of 10 bytes
    }

    @Test
    void layerLargerThanCapacityIsNotKept() {
        LruPolicy lru = new LruPolicy(10);
        lru.request(layer("a", 3));
        assertEquals(List.of("a", "big"), lru.request(layer("big", 11)));
        assertEquals(0, lru.weightedSize());
    }

    @Test
    void pinnedLayerIsSkippedAndEvictionDeferredUntilUnpinned() {
        LruPolicy lru = new LruPolicy(10);
        lru.request(layer("a", 4));
        lru.request(layer("b", 4));
        lru.pin("a");
        assertEquals(List.of("b"), lru.request(layer("c", 4)), "a is least recent but pinned");
        lru.pin("c");
        lru.pin("d"); // pinned before it is committed, as during extraction
        assertEquals(List.of(), lru.request(layer("d", 4)), "everything is pinned: eviction deferred");
        assertEquals(12, lru.weightedSize());
        assertTrue(lru.contains("a"));
        assertEquals(List.of("a"), lru.unpin("a"));
        assertFalse(lru.contains("a"));
        assertThrows(IllegalStateException.class, () -> lru.unpin("a"));
    }

    @Test
    void pinsAreCounted() {
        LruPolicy lru = new LruPolicy(4);
        lru.pin("a");
        lru.pin("a");
        lru.request(layer("a", 4));
        assertEquals(List.of(), lru.setCapacity(0));
        assertEquals(List.of(), lru.unpin("a"));
        assertTrue(lru.isPinned("a"));
        assertEquals(List.of("a"), lru.unpin("a"));
        assertFalse(lru.isPinned("a"));
    }

    @Test
    void capacityChangesAtRunTime() {
        LruPolicy lru = new LruPolicy(12);
        lru.request(layer("a", 4));
        lru.request(layer("b", 4));
        lru.request(layer("c", 4));
        assertEquals(List.of("a", "b"), lru.setCapacity(5));
        assertEquals(List.of(), lru.setCapacity(100));
        assertEquals(Set.of("c"), lru.residentKeys());
        assertThrows(IllegalArgumentException.class, () -> lru.setCapacity(-1));
    }

    @Test
    void restoreKeepsRememberedOrderAndAdmitsUnknownBlobs() {
        LruPolicy lru = new LruPolicy(100);
        lru.request(layer("a", 1));
        lru.request(layer("b", 1));
        lru.request(layer("c", 1));
        lru.request(layer("a", 1)); // order b, c, a
        PolicyState state = lru.exportState();

        LruPolicy restored = new LruPolicy(3);
        // b vanished from disk, d was committed after the checkpoint.
        assertEquals(List.of(), restored.restore(state, new java.util.LinkedHashMap<>(
                java.util.Map.of("a", 1L, "c", 1L, "d", 1L))));
        assertEquals(Set.of("a", "c", "d"), restored.residentKeys());
        assertEquals(List.of("c"), restored.request(layer("e", 1)), "c is the eldest remembered");
    }
}
