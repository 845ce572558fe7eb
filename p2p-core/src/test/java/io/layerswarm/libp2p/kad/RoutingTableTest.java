package io.layerswarm.libp2p.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RoutingTableTest {

    private final Random random = new Random(3);

    private byte[] randomId() {
        byte[] id = new byte[34];
        random.nextBytes(id);
        id[0] = 0x12;
        id[1] = 0x20;
        return id;
    }

    @Test
    void commonPrefixAndDistance() {
        KadId a = KadId.of(new byte[] {1});
        assertEquals(256, a.commonPrefixLength(a));
        byte[] key = a.randomKeyWithPrefixLength(5, random);
        assertEquals(5, a.commonPrefixLength(KadId.of(key)));
        KadId b = KadId.of(new byte[] {2});
        assertEquals(0, a.compareDistance(b, b));
        assertTrue(a.compareDistance(a, b) < 0, "self is closest to itself");
    }

    @Test
    void bucketsHoldAtMostKAndClosestIsSorted() {
        byte[] self = randomId();
        RoutingTable t = new RoutingTable(KadId.of(self), 4, Instant.EPOCH);
        assertInstanceOf(RoutingTable.Offer.Self.class, t.offer(KadPeer.of(self)));
        List<KadPeer> all = new ArrayList<>();
        int full = 0;
        for (int i = 0; i < 200; i++) {
            KadPeer p = KadPeer.of(randomId());
            RoutingTable.Offer o = t.offer(p);
            if (o instanceof RoutingTable.Offer.Full) {
                full++;
            } else {
                all.add(p);
            }
        }
        assertTrue(full > 0, "bucket 0 and 1 must overflow with k=4");
        for (int cpl = 0; cpl < 256; cpl++) {
            assertTrue(t.bucket(cpl).size() <= 4);
        }
        assertEquals(all.size(), t.size());
        KadId target = KadId.of(new byte[] {42});
        List<KadPeer> expected = all.stream().sorted(Comparator.comparing(KadPeer::kadId, target::compareDistance))
                .limit(10).toList();
        assertEquals(expected, t.closest(target, 10));
        assertInstanceOf(RoutingTable.Offer.Updated.class, t.offer(all.get(0)));
    }

    @Test
    void removePromotesNewestReplacementAndTouchReorders() {
        byte[] self = randomId();
        KadId me = KadId.of(self);
        RoutingTable t = new RoutingTable(me, 2, Instant.EPOCH);
        List<KadPeer> bucket0 = new ArrayList<>();
        while (bucket0.size() < 4) {
            KadPeer p = KadPeer.of(randomId());
            if (me.commonPrefixLength(p.kadId()) == 0) {
                bucket0.add(p);
            }
        }
        t.offer(bucket0.get(0));
        t.offer(bucket0.get(1));
        RoutingTable.Offer o = t.offer(bucket0.get(2));
        assertEquals(bucket0.get(0), ((RoutingTable.Offer.Full) o).oldest());
        t.touch(bucket0.get(0));
        assertEquals(List.of(bucket0.get(1), bucket0.get(0)), t.bucket(0));
        t.offer(bucket0.get(3));
        assertEquals(bucket0.get(3), t.remove(bucket0.get(1).id()).orElseThrow(), "newest replacement promoted");
        assertFalse(t.contains(bucket0.get(1).id()));
        assertEquals(bucket0.get(2), t.remove(bucket0.get(0).id()).orElseThrow());
        assertTrue(t.remove(bucket0.get(2).id()).isEmpty(), "no replacements left");
    }

    @Test
    void staleBucketsFollowRefreshTimes() {
        byte[] self = randomId();
        RoutingTable t = new RoutingTable(KadId.of(self), 20, Instant.EPOCH);
        assertEquals(List.of(0), t.staleBuckets(Instant.EPOCH.plusSeconds(1), 15), "empty table: bucket 0 only");
        t.markRefreshed(0, Instant.EPOCH.plusSeconds(5));
        assertTrue(t.staleBuckets(Instant.EPOCH.plusSeconds(1), 15).isEmpty());
    }
}
