package io.layerswarm.libp2p.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProviderStoreTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

    @Test
    void recordsExpireAfterValidityAndRenewOnReAdd() {
        ProviderStore s = new ProviderStore(clock, Duration.ofHours(48), 10, 10);
        byte[] key = {1, 2};
        KadPeer a = KadPeer.of(new byte[] {10});
        KadPeer b = KadPeer.of(new byte[] {11});
        s.add(key, a);
        clock.advance(Duration.ofHours(30));
        s.add(key, b);
        assertEquals(List.of(a, b), s.get(key));
        clock.advance(Duration.ofHours(19)); // a: 49h old, b: 19h old
        assertEquals(List.of(b), s.get(key));
        s.add(key, b);
        clock.advance(Duration.ofHours(47));
        assertEquals(List.of(b), s.get(key));
        clock.advance(Duration.ofHours(2));
        assertEquals(1, s.expire());
        assertTrue(s.get(key).isEmpty());
        assertEquals(0, s.keyCount());
    }

    @Test
    void boundedInKeysAndProvidersPerKey() {
        ProviderStore s = new ProviderStore(clock, Duration.ofHours(48), 3, 2);
        for (int i = 0; i < 10; i++) {
            s.add(new byte[] {(byte) i}, KadPeer.of(new byte[] {1}));
        }
        assertEquals(3, s.keyCount());
        assertTrue(s.get(new byte[] {0}).isEmpty(), "oldest key evicted");
        for (int i = 0; i < 5; i++) {
            s.add(new byte[] {9}, KadPeer.of(new byte[] {(byte) (20 + i)}));
        }
        assertEquals(List.of(KadPeer.of(new byte[] {23}), KadPeer.of(new byte[] {24})), s.get(new byte[] {9}));
        List<byte[]> many = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            many.add(new byte[] {4, 127, 0, 0, 1, 6, 0, (byte) i});
        }
        s.add(new byte[] {42}, new KadPeer(new byte[] {5}, many, null));
        assertEquals(ProviderStore.MAX_ADDRS, s.get(new byte[] {42}).get(0).addrs().size());
    }

    @Test
    void oneProviderAtItsLimitGetsNoNewKeysAndEvictsNoOtherProvider() {
        ProviderStore s = new ProviderStore(clock, Duration.ofHours(48), 5, 20, 2);
        KadPeer honest = KadPeer.of(new byte[] {1});
        KadPeer flooder = KadPeer.of(new byte[] {2});
        s.add(new byte[] {0}, honest);
        assertTrue(s.add(new byte[] {1}, flooder));
        assertTrue(s.add(new byte[] {2}, flooder));
        for (int i = 3; i < 100; i++) {
            assertFalse(s.add(new byte[] {(byte) i}, flooder), "key " + i);
        }
        assertTrue(s.add(new byte[] {1}, flooder), "a renewal is not a new record");
        assertEquals(2, s.recordsOf(flooder.id()));
        assertEquals(List.of(honest), s.get(new byte[] {0}), "the honest record stays");
        assertEquals(3, s.recordCount());
        clock.advance(Duration.ofHours(49));
        assertEquals(3, s.expire());
        assertEquals(0, s.recordsOf(flooder.id()), "expired records free the provider's share");
        assertTrue(s.add(new byte[] {3}, flooder));
    }
}
