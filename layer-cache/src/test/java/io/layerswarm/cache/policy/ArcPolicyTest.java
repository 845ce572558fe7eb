package io.layerswarm.cache.policy;

import static io.layerswarm.cache.policy.PolicyTestSupport.layer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ArcPolicyTest {

    /** Hand-computed trace at c=10 with 4-byte layers; comments give T1, T2, B1, B2 and p. */
    @Test
    void handComputedSequenceAdaptsAndBeatsRecencyOnly() {
        ArcPolicy arc = ArcPolicy.plain(10);
        assertEquals(List.of(), arc.request(layer("a", 4)));        // T1=[a]
        assertEquals(List.of(), arc.request(layer("b", 4)));        // T1=[a,b]
        assertEquals(List.of(), arc.request(layer("a", 4)));        // T1=[b] T2=[a]
        assertArrayEquals(new long[] {4, 4, 0, 0}, arc.listBytes());
        assertEquals(List.of("b"), arc.request(layer("c", 4)));     // T1 8 > p=0: b -> B1
        assertArrayEquals(new long[] {4, 4, 4, 0}, arc.listBytes());
        assertTrue(arc.isGhost("b"));
        assertEquals(List.of("a"), arc.request(layer("b", 4)));     // B1 hit: p=0+1*4=4, b->T2; |T1|=4 not > p: a -> B2
        assertEquals(4.0, arc.target());
        assertArrayEquals(new long[] {4, 4, 0, 4}, arc.listBytes());
        assertEquals(List.of("c"), arc.request(layer("d", 4)));     // T1=[c,d] 8 > p=4: c -> B1
        assertArrayEquals(new long[] {4, 4, 4, 4}, arc.listBytes());
        assertEquals(List.of("d"), arc.request(layer("a", 4)));     // B2 hit: p=max(0,4-(4/4)*4)=0, a->T2; d -> B1
        assertEquals(0.0, arc.target());
        assertEquals(Set.of("b", "a"), arc.residentKeys());
        assertArrayEquals(new long[] {0, 8, 8, 0}, arc.listBytes());
        // LRU on the same sequence holds {d, a} now; ARC kept b (seen twice) and hits it.
        LruPolicy lru = new LruPolicy(10);
        for (String k : List.of("a", "b", "a", "c", "b", "d", "a")) {
            lru.request(layer(k, 4));
        }
        assertFalse(lru.contains("b"));
        assertTrue(arc.contains("b"));
        arc.checkInvariants();
    }

    @Test
    void ghostAdaptationIsWeightedBySize() {
        ArcPolicy arc = ArcPolicy.plain(100);
        arc.request(layer("a", 50));
        arc.request(layer("a", 50));                                 // T2=[a]
        arc.request(layer("b", 30));                                 // T1=[b]
        assertEquals(List.of("b"), arc.request(layer("c", 40)));     // 120 > 100, |T1|=70 > p=0: b -> B1
        assertEquals(List.of("c"), arc.request(layer("b", 30)));     // B1 hit: p = 0 + 1 * 30 bytes; |T1|=40 > 30
        assertEquals(30.0, arc.target());
        assertArrayEquals(new long[] {0, 80, 40, 0}, arc.listBytes());
        arc.checkInvariants();
    }

    @Test
    void layerLargerThanCapacityLeavesNoGhost() {
        ArcPolicy arc = ArcPolicy.plain(10);
        assertEquals(List.of("huge"), arc.request(layer("huge", 11)));
        assertFalse(arc.contains("huge"));
        assertFalse(arc.isGhost("huge"), "|T1|+|B1| <= c forbids an 11-byte ghost");
        arc.checkInvariants();
    }

    @Test
    void zeroCapacityKeepsNothing() {
        ArcPolicy arc = ArcPolicy.plain(0);
        assertEquals(List.of("a"), arc.request(layer("a", 1)));
        assertEquals(List.of("a"), arc.request(layer("a", 1)));
        assertEquals(0, arc.weightedSize());
        arc.checkInvariants();
    }

    @Test
    void pinnedLayersDeferEvictionAndInvariantsHoldAfterUnpin() {
        ArcPolicy arc = ArcPolicy.plain(8);
        arc.request(layer("a", 4));
        arc.request(layer("b", 4));
        arc.pin("a");
        arc.pin("b");
        assertEquals(List.of("c"), arc.request(layer("c", 4)), "only the new layer is evictable");
        arc.checkInvariants();
        arc.pin("d");
        assertEquals(List.of(), arc.request(layer("d", 4)));
        assertEquals(12, arc.weightedSize(), "over capacity while everything is pinned");
        arc.checkInvariants();
        assertEquals(List.of("a"), arc.unpin("a"));
        arc.checkInvariants();
        assertEquals(List.of(), arc.unpin("d"));
        assertEquals(List.of("d"), arc.setCapacity(4));
        arc.checkInvariants();
        assertEquals(Set.of("b"), arc.residentKeys());
    }

    @Test
    void shrinkingCapacityClampsTarget() {
        ArcPolicy arc = ArcPolicy.plain(100);
        arc.request(layer("a", 50));
        arc.request(layer("a", 50));
        arc.request(layer("b", 30));
        arc.request(layer("c", 40)); // b -> B1
        arc.request(layer("b", 30)); // B1 hit: p = 30
        assertEquals(30.0, arc.target());
        assertEquals(List.of("a", "b"), arc.setCapacity(20));
        assertEquals(20.0, arc.target());
        arc.checkInvariants();
        assertEquals(0, arc.weightedSize());
    }

    @Test
    void clusterAwareEvictsReplicatedLayerAndKeepsLastCopy() {
        Map<String, Integer> replicas = Map.of("a", 0, "b", 3, "c", 1);
        ArcPolicy arc = ArcPolicy.clusterAware(12, k -> replicas.getOrDefault(k, 0), 8);
        arc.request(layer("a", 4));
        arc.request(layer("b", 4));
        arc.request(layer("c", 4));
        // Plain ARC would evict a (least recent in T1); a is the cluster's last copy, b has 3 replicas.
        assertEquals(List.of("b"), arc.request(layer("d", 4)));
        assertEquals(List.of("c"), arc.request(layer("e", 4)));
        // Only unreplicated layers left: plain ARC order.
        assertEquals(List.of("a"), arc.request(layer("f", 4)));
        arc.checkInvariants();
        ArcPolicy plain = ArcPolicy.plain(12);
        for (String k : List.of("a", "b", "c")) {
            plain.request(layer(k, 4));
        }
        assertEquals(List.of("a"), plain.request(layer("d", 4)));
    }

    @Test
    void stateSurvivesJsonRoundTrip() throws Exception {
        ArcPolicy arc = ArcPolicy.plain(10);
        for (String k : List.of("a", "b", "a", "c", "b", "d")) {
            arc.request(layer(k, 4));
        }
        ObjectMapper mapper = new ObjectMapper();
        PolicyState state = mapper.readValue(mapper.writeValueAsBytes(arc.exportState()), PolicyState.class);
        ArcPolicy restored = ArcPolicy.plain(10);
        Map<String, Long> onDisk = new java.util.LinkedHashMap<>();
        for (String k : arc.residentKeys()) {
            onDisk.put(k, 4L);
        }
        assertEquals(List.of(), restored.restore(state, onDisk));
        assertArrayEquals(arc.listBytes(), restored.listBytes());
        assertEquals(arc.target(), restored.target());
        restored.checkInvariants();
        // Both continue identically.
        for (String k : List.of("a", "e", "c", "b", "f", "d")) {
            assertEquals(arc.request(layer(k, 4)), restored.request(layer(k, 4)), "after " + k);
        }
    }
}
