package io.layerswarm.libp2p.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LookupTest {

    private static final Lookup.Listener IGNORE = new Lookup.Listener() {
        @Override
        public boolean onResponse(KadPeer from, KadMessage response) {
            return false;
        }

        @Override
        public void onFailure(KadPeer peer, Throwable error) {
        }
    };

    private static KadPeer peer(int i) {
        return KadPeer.of(new byte[] {0x12, 0x20, (byte) (i >> 8), (byte) i});
    }

    @Test
    void floodingPeerCannotGrowCandidatesBeyondKPerResponse() throws Exception {
        KadId self = KadId.of(new byte[] {0});
        KadId target = KadId.of(new byte[] {1});
        List<KadPeer> flood = new ArrayList<>();
        for (int i = 1; i <= 5000; i++) {
            flood.add(peer(i));
        }
        AtomicInteger queries = new AtomicInteger();
        // The seed answers with 5000 peers; everyone else answers with nothing.
        Lookup l = new Lookup(self, target, 4, 3, p -> {
            queries.incrementAndGet();
            boolean seed = p.equals(peer(0));
            return CompletableFuture.completedFuture(KadMessage.response(KadMessage.Type.FIND_NODE, new byte[0],
                    seed ? flood : List.of(), List.of()));
        }, IGNORE);
        List<KadPeer> result = l.run(List.of(peer(0))).get();
        assertEquals(4, result.size());
        assertTrue(queries.get() <= 5, "queried only the seed and the k it named: " + queries.get());
    }

    @Test
    void failedPeersAreSkippedAndAlphaBoundsConcurrency() throws Exception {
        KadId self = KadId.of(new byte[] {0});
        KadId target = KadId.of(new byte[] {1});
        List<KadPeer> seeds = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            seeds.add(peer(i));
        }
        List<CompletableFuture<KadMessage>> pending = new ArrayList<>();
        List<KadPeer> asked = new ArrayList<>();
        Lookup l = new Lookup(self, target, 3, 2, p -> {
            CompletableFuture<KadMessage> f = new CompletableFuture<>();
            synchronized (pending) {
                pending.add(f);
                asked.add(p);
            }
            return f;
        }, IGNORE);
        CompletableFuture<List<KadPeer>> result = l.run(seeds);
        assertEquals(2, pending.size(), "alpha=2 queries in flight");
        // Fail everything: the lookup walks on to further seeds, never more than 2 at a time.
        for (int i = 0; i < 10 && !result.isDone(); i++) {
            List<CompletableFuture<KadMessage>> now;
            synchronized (pending) {
                now = new ArrayList<>(pending);
                pending.clear();
            }
            assertTrue(now.size() <= 2);
            now.forEach(f -> f.completeExceptionally(new java.io.IOException("down")));
        }
        assertTrue(result.get().isEmpty(), "no peer answered");
        assertEquals(10, asked.size(), "every seed was tried once");
    }
}
