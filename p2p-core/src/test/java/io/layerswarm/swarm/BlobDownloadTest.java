package io.layerswarm.swarm;

import static io.layerswarm.swarm.TestSources.Behaviour.CORRUPT;
import static io.layerswarm.swarm.TestSources.Behaviour.FAIL;
import static io.layerswarm.swarm.TestSources.Behaviour.GOOD;
import static io.layerswarm.swarm.TestSources.Behaviour.HANG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BlobDownloadTest extends DownloadFixture {

    @Test
    void piecesComeFromEveryPeerAndAssembleTheBlob() throws Exception {
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), null);
        // The loop takes the three sources in one go: added one by one, the first two could fetch all 20 pieces
        // before the third arrived on a loaded machine (seen under stress-ng: {peer0=1048576, peer1=217072}).
        CountDownLatch added = new CountDownLatch(1);
        loop.post(() -> awaitUninterruptibly(added));
        for (int i = 0; i < 3; i++) {
            d.addSource(new TestSources.Source("peer" + i, blob, false, 2 + i * 3, GOOD), Bitfield.full(layout.count()));
        }
        added.countDown();
        DownloadResult r = await(d);
        assertTrue(sink.committed);
        assertArrayEquals(blob, sink.data);
        assertEquals(blob.length, r.peerBytes());
        assertEquals(0, r.originBytes());
        assertEquals(3, r.bytesBySource().size(), "every peer contributed: " + r.bytesBySource());
        // the fastest peer should have carried the most
        assertTrue(r.bytesBySource().get("peer0") > r.bytesBySource().get("peer2"), r.bytesBySource().toString());
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never released the loop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aBusyPeerIsAskedAgainNotBanned() throws Exception {
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), null);
        TestSources.Source busy = new TestSources.Source("busy", blob, false, 2, TestSources.Behaviour.BUSY);
        busy.busyAnswers = 3 * DownloadConfig.defaults().maxConsecutiveFailures();
        d.addSource(busy, Bitfield.full(layout.count()));
        DownloadResult r = await(d);
        assertArrayEquals(blob, sink.data);
        assertEquals(blob.length, r.bytesBySource().get("busy"));
    }

    /**
     * A peer that announced every piece and evicted them (a 0-byte cache) answers "not held": each piece is
     * asked of it once, then only of the peer that holds it, and it is not banned (three such answers banned
     * a healthy peer node-wide in the testbed).
     */
    @Test
    void aPeerThatNoLongerHoldsAnnouncedPiecesIsAskedOnceEachNotBanned() throws Exception {
        List<String> banned = new java.util.concurrent.CopyOnWriteArrayList<>();
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), new BlobDownload.Listener() {
            @Override
            public void sourceBanned(String sourceId, boolean origin, String reason) {
                banned.add(sourceId);
            }
        });
        TestSources.Source evicted = new TestSources.Source("evicted", blob, false, 0, TestSources.Behaviour.NOT_HELD);
        d.addSource(evicted, Bitfield.full(layout.count()));
        d.addSource(new TestSources.Source("holder", blob, false, 5, GOOD), Bitfield.full(layout.count()));
        DownloadResult r = await(d);
        assertArrayEquals(blob, sink.data);
        assertEquals(blob.length, r.bytesBySource().get("holder"));
        assertEquals(List.of(), banned);
        assertTrue(evicted.requests.get() <= layout.count(), "asked " + evicted.requests.get() + " times for "
                + layout.count() + " pieces");
        assertTrue(loop.call(() -> !loop.isBanned("evicted")).get(5, TimeUnit.SECONDS));
    }

    @Test
    void disjointHoldingsAreCombined() throws Exception {
        Bitfield even = Bitfield.empty(layout.count());
        Bitfield odd = Bitfield.empty(layout.count());
        for (int i = 0; i < layout.count(); i++) {
            if (i % 2 == 0) {
                even = even.with(i);
            } else {
                odd = odd.with(i);
            }
        }
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), null);
        d.addSource(new TestSources.Source("even", blob, false, 1, GOOD), even);
        d.addSource(new TestSources.Source("odd", blob, false, 1, GOOD), odd);
        DownloadResult r = await(d);
        assertArrayEquals(blob, sink.data);
        long evenBytes = 0;
        for (int i = 0; i < layout.count(); i += 2) {
            evenBytes += layout.length(i);
        }
        assertEquals(evenBytes, r.bytesBySource().get("even"));
    }

    @Test
    void aPeerSendingBadPiecesIsBannedAndItsPiecesRefetched() throws Exception {
        List<String> banned = Collections.synchronizedList(new ArrayList<>());
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), new BlobDownload.Listener() {
            @Override
            public void sourceBanned(String sourceId, boolean origin, String reason) {
                banned.add(sourceId);
            }
        });
        d.addSource(new TestSources.Source("liar", blob, false, 0, CORRUPT), Bitfield.full(layout.count()));
        d.addSource(new TestSources.Source("honest", blob, false, 5, GOOD), Bitfield.full(layout.count()));
        DownloadResult r = await(d);
        assertArrayEquals(blob, sink.data);
        assertEquals(List.of("liar"), banned);
        assertTrue(r.badPieces() >= 1);
        assertFalse(r.bytesBySource().containsKey("liar"));
    }

    @Test
    void aHangingPeerTimesOutAndIsReplaced() throws Exception {
        // 1 s, well above the live source's 20 ms, so a loaded machine cannot make it look hung too
        DownloadConfig cfg = DownloadConfig.defaults().withMinRequestTimeout(Duration.ofSeconds(1));
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), cfg, null);
        TestSources.Source hang = new TestSources.Source("hang", blob, false, 0, HANG);
        d.addSource(hang, Bitfield.full(layout.count()));
        d.addSource(new TestSources.Source("slow-but-alive", blob, false, 20, GOOD), Bitfield.full(layout.count()));
        DownloadResult r = await(d);
        assertArrayEquals(blob, sink.data);
        assertFalse(r.bytesBySource().containsKey("hang"));
        // banned after three consecutive timeouts, so at most 3 rounds of 4 pipelined requests went to it
        assertTrue(hang.requests.get() <= 3 * DownloadConfig.defaults().maxInflightPerPeer(), "" + hang.requests.get());
    }

    @Test
    void theRegistryIsAskedOnlyForPiecesNoPeerHolds() throws Exception {
        Bitfield most = Bitfield.empty(layout.count());
        for (int i = 0; i < layout.count() - 2; i++) {
            most = most.with(i);
        }
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), null);
        d.addSource(new TestSources.Source("peer", blob, false, 1, GOOD), most);
        TestSources.Source registry = new TestSources.Source("registry", blob, true, 1, GOOD);
        d.addSource(registry, Bitfield.full(layout.count()));
        DownloadResult r = await(d);
        assertArrayEquals(blob, sink.data);
        long lastTwo = layout.length(layout.count() - 1) + layout.length(layout.count() - 2);
        assertEquals(lastTwo, r.originBytes());
        assertEquals(2, registry.requests.get());
    }

    @Test
    void aFailingRegistryIsNotNeededWhenPeersHoldEverything() throws Exception {
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), null);
        d.addSource(new TestSources.Source("registry", blob, true, 0, FAIL), Bitfield.full(layout.count()));
        d.addSource(new TestSources.Source("peer", blob, false, 1, GOOD), Bitfield.full(layout.count()));
        DownloadResult r = await(d);
        assertEquals(0, r.originBytes());
        assertArrayEquals(blob, sink.data);
    }

    @Test
    void piecesAnnouncedWhileDownloadingArePickedUp() throws Exception {
        List<Integer> verified = Collections.synchronizedList(new ArrayList<>());
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), new BlobDownload.Listener() {
            @Override
            public void pieceVerified(int piece, byte[] hash) {
                verified.add(piece);
            }
        });
        d.addSource(new TestSources.Source("seeding", blob, false, 1, GOOD), Bitfield.empty(layout.count()));
        for (int i = layout.count() - 1; i >= 0; i--) {
            d.sourceHas("seeding", i);
        }
        await(d);
        assertArrayEquals(blob, sink.data);
        assertEquals(layout.count(), verified.size());
        assertEquals(layout.count(), sink.writes.get(), "each piece written exactly once");
    }

    /**
     * A peer nothing has been measured of gets 4 x the 5 s floor (20 s) per request when asked; once
     * another peer has delivered, it is judged like that one (here: the 5 s floor), so a peer that takes
     * requests and never answers is banned after 5 s with the default settings, not 20 s. The clock is
     * the test's: nothing here waits for real time to pass.
     */
    @Test
    void aNeverMeasuredPeerIsGivenUpOnLikeTheMeasuredOnesOnceTheyDeliver() throws Exception {
        java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong();
        loop.close();
        loop = new SwarmLoop(clock::get);
        java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CompletableFuture<String> banned = new java.util.concurrent.CompletableFuture<>();
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), new BlobDownload.Listener() {
            @Override
            public void pieceAccepted(int piece, String sourceId, boolean origin, int bytes) {
                accepted.incrementAndGet();
            }

            @Override
            public void sourceBanned(String sourceId, boolean origin, String reason) {
                banned.complete(sourceId + ": " + reason);
            }
        });
        java.util.BitSet firstHalf = new java.util.BitSet();
        int half = layout.count() / 2;
        firstHalf.set(0, half);
        d.addSource(new TestSources.Source("silent", blob, false, 0, HANG), Bitfield.full(layout.count()));
        d.addSource(new TestSources.Source("live", blob, false, 0, GOOD), Bitfield.of(layout.count(), firstHalf));
        io.layerswarm.testing.Await.until(Duration.ofSeconds(30), "live delivered its half", accepted::get,
                n -> n == half);
        clock.set(Duration.ofSeconds(5).toNanos() + 1);
        String reason = banned.get(30, TimeUnit.SECONDS);
        assertTrue(reason.startsWith("silent: "), reason);
        assertTrue(reason.contains("took longer than 5000 ms"), reason);
        d.cancel();
    }

    @Test
    void hashesLearnedOnTheWayLetPeersServeAndTheRegistryFillsTheRest() throws Exception {
        PieceHashBook book = new PieceHashBook(layout);
        BlobDownload d = BlobDownload.start(loop, digest, book, sink, PiecePicker.rarestFirst(),
                OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), null, null);
        TestSources.Source peer = new TestSources.Source("peer", blob, false, 1, GOOD);
        TestSources.Source registry = new TestSources.Source("registry", blob, true, 1, GOOD);
        // the peer holds everything, but only the first third's hashes have been announced
        int third = layout.count() / 3;
        for (int i = 0; i < third; i++) {
            d.learnHash("announcer", i, java.util.Arrays.copyOfRange(hashes.toBytes(), i * 32, i * 32 + 32));
        }
        d.addSource(peer, Bitfield.full(layout.count()));
        d.addSource(registry, Bitfield.full(layout.count()));
        DownloadResult r = await(d);
        assertArrayEquals(blob, sink.data);
        long firstThird = (long) third * PIECE;
        assertEquals(firstThird, r.bytesBySource().get("peer"), "peers serve exactly the verifiable pieces");
        assertEquals(blob.length - firstThird, r.originBytes());
    }

    @Test
    void contradictingHashClaimsSendThePieceToTheRegistry() throws Exception {
        PieceHashBook book = new PieceHashBook(layout);
        BlobDownload d = BlobDownload.start(loop, digest, book, sink, PiecePicker.inOrder(),
                OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), null, null);
        byte[] all = hashes.toBytes();
        for (int i = 0; i < layout.count(); i++) {
            d.learnHash("a", i, java.util.Arrays.copyOfRange(all, i * 32, i * 32 + 32));
        }
        byte[] wrong = new byte[32];
        d.learnHash("b", 0, wrong);
        TestSources.Source registry = new TestSources.Source("registry", blob, true, 1, GOOD);
        d.addSource(new TestSources.Source("peer", blob, false, 1, GOOD), Bitfield.full(layout.count()));
        d.addSource(registry, Bitfield.full(layout.count()));
        DownloadResult r = await(d);
        assertArrayEquals(blob, sink.data);
        assertEquals(layout.length(0), r.originBytes(), "only the disputed piece came from the registry");
    }

    @Test
    void beforeAnyTransferTheNearestPeerByPingIsAskedFirst() throws Exception {
        byte[] small = java.util.Arrays.copyOf(blob, PIECE);
        Digest d = Digest.sha256(small);
        PieceLayout one = new PieceLayout(small.length, PIECE);
        PieceHashes h = PieceHashes.compute(d, one, new ByteArrayInputStream(small));
        MemorySink s = new MemorySink(d, small.length);
        loop.recordRtt("far", Duration.ofMillis(80));
        loop.recordRtt("near", Duration.ofMillis(2));
        DownloadConfig noEndgame = new DownloadConfig(4, 4, Duration.ofSeconds(5), 4.0, 3, Duration.ofMinutes(5), 1,
                Duration.ofMillis(100));
        BlobDownload d1 = BlobDownload.start(loop, h, s, PiecePicker.inOrder(), OriginGate.whenNoPeerHolds(), noEndgame,
                null, null);
        // added first, so it would be asked first if the order ignored RTT
        TestSources.Source far = new TestSources.Source("far", small, false, 1, GOOD);
        TestSources.Source near = new TestSources.Source("near", small, false, 1, GOOD);
        // both are discovered while the loop is busy, as when one announcement batch names several holders
        java.util.concurrent.CountDownLatch busy = new java.util.concurrent.CountDownLatch(1);
        loop.post(() -> {
            try {
                busy.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        d1.addSource(far, Bitfield.full(1));
        d1.addSource(near, Bitfield.full(1));
        busy.countDown();
        DownloadResult r = await(d1);
        assertEquals(java.util.Set.of("near"), r.bytesBySource().keySet());
        assertEquals(0, far.requests.get());
        assertEquals(2.0, loop.snapshot().get().get("near").rttMillis(), 1e-9);
    }

    @Test
    void lyingPieceHashesFailTheDownloadInsteadOfCommittingIt() throws Exception {
        byte[] other = blob.clone();
        other[7] ^= 1;
        // hashes of other content, claimed for the real digest: every piece of `other` matches them
        PieceHashes lies = new PieceHashes(digest, layout,
                PieceHashes.compute(Digest.sha256(other), layout, new ByteArrayInputStream(other)).toBytes());
        BlobDownload d = BlobDownload.start(loop, lies, sink, PiecePicker.inOrder(), OriginGate.whenNoPeerHolds(),
                DownloadConfig.defaults(), null, null);
        d.addSource(new TestSources.Source("peer", other, false, 0, GOOD), Bitfield.full(layout.count()));
        ExecutionException e = assertThrows(ExecutionException.class, () -> await(d));
        assertInstanceOf(BlobDownload.BadPieceHashesException.class, e.getCause());
        assertFalse(sink.committed);
        assertTrue(sink.aborted);
    }
}
