package io.layerswarm.libp2p.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.layerswarm.libp2p.kad.ProviderStore.Outcome.ADDRESS_LIMIT;
import static io.layerswarm.libp2p.kad.ProviderStore.Outcome.PROVIDER_LIMIT;
import static io.layerswarm.libp2p.kad.ProviderStore.Outcome.STORED;
import static io.layerswarm.libp2p.kad.ProviderStore.Outcome.STORE_FULL;

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
            assertEquals(i < 3 ? STORED : STORE_FULL, s.add(new byte[] {(byte) i}, KadPeer.of(new byte[] {1})), "key " + i);
        }
        assertEquals(3, s.keyCount());
        assertEquals(List.of(KadPeer.of(new byte[] {1})), s.get(new byte[] {0}), "a peer's new key evicts nothing");
        s.addOwn(new byte[] {7}, KadPeer.of(new byte[] {99}));
        assertEquals(3, s.keyCount());
        assertTrue(s.get(new byte[] {0}).isEmpty(), "our own record makes room: the oldest key goes");
        for (int i = 0; i < 5; i++) {
            s.add(new byte[] {2}, KadPeer.of(new byte[] {(byte) (20 + i)}));
        }
        assertEquals(List.of(KadPeer.of(new byte[] {23}), KadPeer.of(new byte[] {24})), s.get(new byte[] {2}));
        List<byte[]> many = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            many.add(new byte[] {4, 127, 0, 0, 1, 6, 0, (byte) i});
        }
        s.add(new byte[] {1}, new KadPeer(new byte[] {5}, many, null));
        assertEquals(ProviderStore.MAX_ADDRS, s.get(new byte[] {1}).get(1).addrs().size());
    }

    @Test
    void oneProviderAtItsLimitGetsNoNewKeysAndEvictsNoOtherProvider() {
        ProviderStore s = new ProviderStore(clock, Duration.ofHours(48), 5, 20, 2, 100, 100);
        KadPeer honest = KadPeer.of(new byte[] {1});
        KadPeer flooder = KadPeer.of(new byte[] {2});
        s.add(new byte[] {0}, honest);
        assertEquals(STORED, s.add(new byte[] {1}, flooder));
        assertEquals(STORED, s.add(new byte[] {2}, flooder));
        for (int i = 3; i < 100; i++) {
            assertEquals(PROVIDER_LIMIT, s.add(new byte[] {(byte) i}, flooder), "key " + i);
        }
        assertEquals(STORED, s.add(new byte[] {1}, flooder), "a renewal is not a new record");
        assertEquals(2, s.recordsOf(flooder.id()));
        assertEquals(List.of(honest), s.get(new byte[] {0}), "the honest record stays");
        assertEquals(3, s.recordCount());
        clock.advance(Duration.ofHours(49));
        assertEquals(3, s.expire());
        assertEquals(0, s.recordsOf(flooder.id()), "expired records free the provider's share");
        assertEquals(0, s.recordCount());
        assertEquals(STORED, s.add(new byte[] {3}, flooder));
    }

    @Test
    void identitiesFromOneAddressShareItsCap() {
        ProviderStore s = new ProviderStore(clock, Duration.ofHours(48), 100, 20, 10, 3, 100);
        KadPeer honest = KadPeer.of(new byte[] {1});
        assertEquals(STORED, s.add(new byte[] {0}, honest, "10.0.0.1"));
        for (int i = 1; i <= 5; i++) {
            // a fresh identity per record: the per-provider cap (10) never binds them
            assertEquals(i <= 3 ? STORED : ADDRESS_LIMIT, s.add(new byte[] {(byte) i}, KadPeer.of(new byte[] {(byte) (50 + i)}),
                    "10.0.0.2"), "sybil " + i);
        }
        assertEquals(3, s.recordsFrom("10.0.0.2"));
        assertEquals(STORED, s.add(new byte[] {1}, KadPeer.of(new byte[] {51}), "10.0.0.2"), "a renewal is taken");
        assertEquals(STORED, s.add(new byte[] {9}, honest, "10.0.0.1"), "another address is not affected");
        assertEquals(STORED, s.add(new byte[] {10}, KadPeer.of(new byte[] {60}), null), "unknown address: not capped by it");
        assertEquals(List.of(honest), s.get(new byte[] {0}));
        assertEquals(2, s.recordsFrom("10.0.0.1"));
        clock.advance(Duration.ofHours(49));
        s.expire();
        assertEquals(0, s.recordsFrom("10.0.0.2"), "expired records free the address's share");
        assertEquals(STORED, s.add(new byte[] {3}, KadPeer.of(new byte[] {53}), "10.0.0.2"));
    }

    @Test
    void aFullStoreRefusesPeersNewRecordsAndKeepsWhatItHolds() {
        ProviderStore s = new ProviderStore(clock, Duration.ofHours(48), 100, 20, 10, 10, 4);
        KadPeer honest = KadPeer.of(new byte[] {1});
        assertEquals(STORED, s.add(new byte[] {0}, honest, "10.0.0.1"));
        for (int i = 1; i <= 10; i++) {
            assertEquals(i <= 3 ? STORED : STORE_FULL, s.add(new byte[] {(byte) i}, KadPeer.of(new byte[] {(byte) (50 + i)}),
                    "10.0.0." + (10 + i)), "record " + i);
        }
        assertEquals(4, s.recordCount());
        assertEquals(STORED, s.add(new byte[] {0}, honest, "10.0.0.1"), "a renewal is taken when full");
        s.addOwn(new byte[] {42}, KadPeer.of(new byte[] {99}));
        assertEquals(5, s.recordCount(), "our own record is stored all the same");
        assertEquals(List.of(honest), s.get(new byte[] {0}), "the record held survived the flood");
        clock.advance(Duration.ofHours(49));
        assertEquals(5, s.expire());
        assertEquals(STORED, s.add(new byte[] {4}, KadPeer.of(new byte[] {54}), "10.0.0.14"));
    }
}
