package io.layerswarm.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.policy.ArcPolicy;
import io.layerswarm.cache.policy.ImageGranularityPolicy;
import io.layerswarm.cache.policy.LruPolicy;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.MediaTypes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerCacheTest {
    @TempDir
    Path dir;

    private static byte[] blob(String name, int size) {
        byte[] b = new byte[size];
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(n, 0, b, 0, Math.min(n.length, size));
        return b;
    }

    private static Digest ingest(ContentStore store, String name, int size) throws IOException {
        byte[] b = blob(name, size);
        Digest d = Digest.sha256(b);
        store.ingest(d, new ByteArrayInputStream(b));
        return d;
    }

    @Test
    void evictedBlobsAreDeletedFromTheStore() throws Exception {
        try (ContentStore store = ContentStore.open(dir.resolve("store"));
             LayerCache cache = LayerCache.open(store, ArcPolicy.plain(10_000), dir.resolve("journal.json"))) {
            Digest a = ingest(store, "a", 4000);
            Digest b = ingest(store, "b", 4000);
            cache.access(a); // a -> T2
            Digest c = ingest(store, "c", 4000);
            assertFalse(store.contains(b), "b was least recent in T1");
            assertTrue(store.contains(a));
            assertTrue(store.contains(c));
            assertEquals(8000, cache.usedBytes());
            assertEquals(store.totalBytes(), cache.usedBytes());
            assertEquals(1, cache.evictedBlobs());
        }
    }

    @Test
    void reclaimEvictsUnpinnedLayersInPolicyOrderAndKeepsTheCapacity() throws Exception {
        try (ContentStore store = ContentStore.open(dir.resolve("store"));
             LayerCache cache = LayerCache.open(store, new LruPolicy(100_000), dir.resolve("journal.json"))) {
            Digest a = ingest(store, "a", 4000);
            Digest b = ingest(store, "b", 4000);
            Digest c = ingest(store, "c", 4000);
            try (LayerCache.Pin pinA = cache.pin(a)) {
                assertEquals(8000, cache.reclaim(5000), "a is pinned: b then c go");
                assertTrue(store.contains(a));
                assertFalse(store.contains(b));
                assertFalse(store.contains(c));
                assertEquals(0, cache.reclaim(1), "only pinned layers left");
            }
            assertTrue(store.contains(a), "unpinning does not evict below the capacity");
            assertEquals(100_000, cache.capacity());
            assertEquals(2, cache.evictedBlobs());
        }
    }

    @Test
    void pinnedLayerIsKeptUntilUnpinnedThenEvicted() throws Exception {
        try (ContentStore store = ContentStore.open(dir.resolve("store"));
             LayerCache cache = LayerCache.open(store, new LruPolicy(8000), dir.resolve("journal.json"))) {
            byte[] bytesA = blob("a", 4000);
            Digest a = Digest.sha256(bytesA);
            LayerCache.Pin pin = cache.pin(a); // pinned before commit, as during extraction
            store.ingest(a, new ByteArrayInputStream(bytesA));
            Digest b = ingest(store, "b", 4000);
            Digest c = ingest(store, "c", 4000);
            assertTrue(store.contains(a), "pinned a survives although least recent");
            assertFalse(store.contains(b));
            LayerCache.Pin pinC = cache.pin(c);
            byte[] bytesD = blob("d", 4000);
            Digest d = Digest.sha256(bytesD);
            LayerCache.Pin pinD = cache.pin(d);
            store.ingest(d, new ByteArrayInputStream(bytesD));
            assertEquals(12_000, store.totalBytes(), "a and c pinned, d new: eviction deferred");
            pin.close();
            assertFalse(store.contains(a), "deferred eviction happens at unpin");
            assertTrue(store.contains(c));
            assertTrue(store.contains(d));
            pin.close(); // idempotent
            pinC.close();
            pinD.close();
            assertEquals(8000, store.totalBytes());
        }
    }

    @Test
    void capacityChangesAtRunTime() throws Exception {
        try (ContentStore store = ContentStore.open(dir.resolve("store"));
             LayerCache cache = LayerCache.open(store, new LruPolicy(100_000), dir.resolve("journal.json"))) {
            Digest a = ingest(store, "a", 3000);
            Digest b = ingest(store, "b", 3000);
            Digest c = ingest(store, "c", 3000);
            cache.setCapacity(4000);
            assertEquals(4000, cache.capacity());
            assertEquals(List.of(false, false, true), List.of(store.contains(a), store.contains(b), store.contains(c)));
            cache.setCapacity(0);
            assertEquals(0, store.totalBytes());
        }
    }

    @Test
    void imageRequestsDriveImageGranularityPolicies() throws Exception {
        try (ContentStore store = ContentStore.open(dir.resolve("store"));
             LayerCache cache = LayerCache.open(store, ImageGranularityPolicy.imageLru(10_000),
                     dir.resolve("journal.json"))) {
            Digest base = ingest(store, "base", 4000);
            Digest x = ingest(store, "x", 2000);
            cache.recordImage("app:1", List.of(desc(base, 4000), desc(x, 2000)));
            Digest y = ingest(store, "y", 2000);
            cache.recordImage("app:2", List.of(desc(base, 4000), desc(y, 2000)));
            cache.recordImage("app:1", List.of(desc(base, 4000), desc(x, 2000)));
            ingest(store, "z", 3000); // 11000 > 10000: least recent image is app:2, only y is freed
            assertFalse(store.contains(y));
            assertTrue(store.contains(base));
            assertTrue(store.contains(x));
        }
    }

    private static Descriptor desc(Digest d, long size) {
        return new Descriptor(MediaTypes.OCI_LAYER_GZIP, d, size, List.of(), Map.of(), null);
    }

    @Test
    void restartRebuildsResidentSetAndPolicyHistory() throws Exception {
        Path storeDir = dir.resolve("store");
        Path journal = dir.resolve("journal.json");
        ArcPolicy first = ArcPolicy.plain(12_000);
        Digest a;
        Digest b;
        Digest c;
        try (ContentStore store = ContentStore.open(storeDir);
             LayerCache cache = LayerCache.open(store, first, journal)) {
            a = ingest(store, "a", 4000);
            b = ingest(store, "b", 4000);
            c = ingest(store, "c", 4000);
            cache.access(a);
            cache.access(c); // T1=[b], T2=[a,c]
        }
        assertTrue(Files.exists(journal));
        Digest late;
        try (ContentStore store = ContentStore.open(storeDir)) {
            late = ingest(store, "late", 1000); // committed while no cache ran
        }
        ArcPolicy second = ArcPolicy.plain(12_000);
        try (ContentStore store = ContentStore.open(storeDir);
             LayerCache cache = LayerCache.open(store, second, journal)) {
            assertEquals(Set.of(a.toString(), c.toString(), late.toString()), second.residentKeys());
            assertTrue(store.contains(late), "a blob the journal never saw is kept");
            assertFalse(store.contains(b), "13000 > 12000: b, least recent in T1, goes first");
            assertArrayEquals(new long[] {1000, 8000, 4000, 0}, second.listBytes(), "T2 history survived");
            assertEquals(store.totalBytes(), cache.usedBytes());
        }
    }

    @Test
    void corruptJournalLosesHistoryButNoBlob() throws Exception {
        Path storeDir = dir.resolve("store");
        Path journal = dir.resolve("journal.json");
        Digest a;
        Digest b;
        try (ContentStore store = ContentStore.open(storeDir);
             LayerCache cache = LayerCache.open(store, ArcPolicy.plain(100_000), journal)) {
            a = ingest(store, "a", 4000);
            b = ingest(store, "b", 4000);
        }
        Files.write(journal, "{\"version\":1,\"state\":{\"policy\":\"arc\",\"segm".getBytes(StandardCharsets.UTF_8));
        ArcPolicy policy = ArcPolicy.plain(100_000);
        try (ContentStore store = ContentStore.open(storeDir);
             LayerCache cache = LayerCache.open(store, policy, journal)) {
            assertTrue(store.contains(a));
            assertTrue(store.contains(b));
            assertEquals(8000, cache.usedBytes());
        }
        assertTrue(PolicyJournal.read(journal) != null, "close rewrote a valid journal");
    }

    @Test
    void externalDeletionIsForgotten() throws Exception {
        try (ContentStore store = ContentStore.open(dir.resolve("store"));
             LayerCache cache = LayerCache.open(store, ArcPolicy.plain(100_000), dir.resolve("journal.json"))) {
            Digest a = ingest(store, "a", 4000);
            assertTrue(cache.contains(a));
            store.delete(a);
            assertFalse(cache.contains(a));
            assertEquals(0, cache.usedBytes());
        }
    }

    @Test
    void closedCacheRefusesWork() throws Exception {
        try (ContentStore store = ContentStore.open(dir.resolve("store"))) {
            LayerCache cache = LayerCache.open(store, ArcPolicy.plain(100), dir.resolve("journal.json"));
            cache.close();
            assertThrows(IllegalStateException.class, () -> cache.setCapacity(1));
            ingest(store, "after-close", 10); // the listener is gone; the store still works
        }
    }

    @Test
    void concurrentCommitsAndPinsStayConsistent() throws Exception {
        try (ContentStore store = ContentStore.open(dir.resolve("store"));
             LayerCache cache = LayerCache.open(store, ArcPolicy.plain(50_000), dir.resolve("journal.json"))) {
            int threads = 4;
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
            List<java.util.concurrent.Future<?>> futures = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 40; i++) {
                        byte[] b = blob("t" + id + "-" + i, 3000);
                        Digest d = Digest.sha256(b);
                        try (LayerCache.Pin pin = cache.pin(d)) {
                            store.ingest(d, new ByteArrayInputStream(b));
                            assertTrue(store.contains(d), "pinned blob survives its own commit");
                            cache.access(d);
                        }
                    }
                    return null;
                }));
            }
            for (var f : futures) {
                f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertTrue(store.totalBytes() <= 50_000, "store " + store.totalBytes());
            assertEquals(store.totalBytes(), cache.usedBytes());
            assertEquals(160 - store.list().size(), cache.evictedBlobs());
        }
    }
}
