package io.layerswarm.swarm;

import static io.layerswarm.swarm.TestSources.Behaviour.FAIL;
import static io.layerswarm.swarm.TestSources.Behaviour.GOOD;
import static io.layerswarm.swarm.TestSources.Behaviour.HANG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The registry is often the only source of a blob, so it is never banned: a failing or timing-out
 * registry is retried after a backoff that doubles, and the download completes once it answers again.
 * (A loaded fan-out banned the registry on every node after three 20 s piece timeouts, and the pull
 * failed.) The loop runs on the test's clock, so no test waits for real backoffs or timeouts.
 */
class OriginRetryTest extends DownloadFixture {
    private final AtomicLong clock = new AtomicLong();
    private final List<String> banned = Collections.synchronizedList(new ArrayList<>());
    private final List<Long> backoffs = Collections.synchronizedList(new ArrayList<>());
    private final BlobDownload.Listener listener = new BlobDownload.Listener() {
        @Override
        public void sourceBanned(String sourceId, boolean origin, String reason) {
            banned.add(sourceId + ": " + reason);
        }

        @Override
        public void originRetry(int piece, int failures, long backoffMillis) {
            backoffs.add(backoffMillis);
        }
    };

    @BeforeEach
    void testClock() {
        loop.close();
        loop = new SwarmLoop(clock::get);
    }

    @Test
    void aFailingRegistryIsRetriedAfterABackoffAndNeverBanned() throws Exception {
        int maxInflight = DownloadConfig.defaults().maxInflightOrigin();
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), listener);
        TestSources.Source registry = new TestSources.Source("registry", blob, true, 0, FAIL);
        // more failures in a row than a peer may have before it is banned
        registry.goodAfter = 2 * DownloadConfig.defaults().maxConsecutiveFailures();
        d.addSource(registry, Bitfield.full(layout.count()));
        Await.until(Duration.ofSeconds(30), "the first registry requests failed", backoffs::size, n -> n == maxInflight);
        // the clock stands still: while backing off, the download asks nothing more, however often it schedules
        for (int i = 0; i < 3; i++) {
            d.reconsider();
            loop.call(() -> loop.call(() -> null)).get().get();
        }
        assertEquals(maxInflight, registry.requests.get(), "no request during the backoff");
        assertEquals(List.of(250L, 500L, 1000L, 2000L), backoffs, "doubling backoff");
        DownloadResult r = driveClockUntilDone(d);
        assertArrayEquals(blob, sink.data);
        assertEquals(blob.length, r.originBytes());
        assertEquals(List.of(), banned);
        assertTrue(backoffs.size() >= registry.goodAfter, backoffs.toString());
        assertTrue(backoffs.stream().allMatch(b -> b <= BlobDownload.ORIGIN_BACKOFF_MAX_MILLIS), backoffs.toString());
    }

    @Test
    void aRegistryThatTimesOutIsAskedAgainNotBanned() throws Exception {
        int maxInflight = DownloadConfig.defaults().maxInflightOrigin();
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), listener);
        TestSources.Source registry = new TestSources.Source("registry", blob, true, 0, HANG);
        registry.goodAfter = maxInflight; // the first requests never answer (a starved uplink)
        d.addSource(registry, Bitfield.full(layout.count()));
        Await.until(Duration.ofSeconds(30), "the registry was asked", registry.requests::get, n -> n == maxInflight);
        // past every request's allowance: all of them time out, more than maxConsecutiveFailures in a row
        clock.addAndGet(Duration.ofMinutes(1).toNanos());
        Await.until(Duration.ofSeconds(30), "the hanging requests timed out", backoffs::size, n -> n == maxInflight);
        DownloadResult r = driveClockUntilDone(d);
        assertArrayEquals(blob, sink.data);
        assertEquals(blob.length, r.originBytes());
        assertEquals(List.of(), banned);
    }

    @Test
    void aPeerStillGetsBannedForFailures() throws Exception {
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), listener);
        d.addSource(new TestSources.Source("flaky", blob, false, 0, FAIL), Bitfield.full(layout.count()));
        d.addSource(new TestSources.Source("registry", blob, true, 0, GOOD), Bitfield.full(layout.count()));
        DownloadResult r = driveClockUntilDone(d);
        assertArrayEquals(blob, sink.data);
        assertEquals(1, banned.size(), banned.toString());
        assertTrue(banned.get(0).startsWith("flaky: "), banned.toString());
        assertEquals(blob.length, r.originBytes());
    }

    /**
     * The blacklist is the node's: when another download bans this download's only holder, the pieces
     * go to the registry at once. (A stale holder count kept the registry closed while the holder was
     * banned: in the testbed a 2 MB layer waited out the 5 min ban.) The test clock stands still until the
     * registry is asked, so no timeout of the hanging holder's requests can be what opened it.
     */
    @Test
    void aHolderBannedByAnotherDownloadOpensTheRegistryAtOnce() throws Exception {
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), listener);
        TestSources.Source holder = new TestSources.Source("holder", blob, false, 0, HANG);
        TestSources.Source registry = new TestSources.Source("registry", blob, true, 0, GOOD);
        d.addSource(holder, Bitfield.full(layout.count()));
        d.addSource(registry, Bitfield.full(layout.count()));
        Await.until(Duration.ofSeconds(30), "the holder was asked", holder.requests::get, n -> n > 0);
        assertEquals(0, registry.requests.get(), "a peer holds every piece: the registry waits");
        loop.call(() -> {
            loop.blacklist().ban("holder", Duration.ofMinutes(5).toNanos()); // as another download of the node does
            return null;
        }).get();
        // the test clock stands still, so none of the holder's requests has timed out: the ban alone opens it
        Await.until(Duration.ofSeconds(30), "the registry was asked for the pieces nobody else was asked for",
                registry.requests::get, n -> n > 0);
        assertEquals(List.of(), banned, "this download banned nobody");
        // the requests already sent to the holder end by their timeout, then go to the registry too
        DownloadResult r = driveClockUntilDone(d);
        assertArrayEquals(blob, sink.data);
        assertEquals(blob.length, r.originBytes());
    }

    /** A registry whose streamed pieces the test writes by hand. */
    static final class HandFed implements StreamingPieceSource {
        final java.util.Map<Integer, PieceRegion> regions = new java.util.concurrent.ConcurrentHashMap<>();
        final java.util.Map<Integer, java.util.concurrent.CompletableFuture<Void>> answers =
                new java.util.concurrent.ConcurrentHashMap<>();
        final java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public String id() {
            return "registry";
        }

        @Override
        public boolean isOrigin() {
            return true;
        }

        @Override
        public java.util.concurrent.CompletableFuture<java.nio.ByteBuffer> fetch(long offset, int length) {
            return new java.util.concurrent.CompletableFuture<>();
        }

        @Override
        public java.util.concurrent.CompletableFuture<Void> fetchInto(long offset, PieceRegion region) {
            requests.incrementAndGet();
            int piece = (int) (offset / PIECE);
            java.util.concurrent.CompletableFuture<Void> f = new java.util.concurrent.CompletableFuture<>();
            regions.put(piece, region);
            answers.put(piece, f);
            return f;
        }
    }

    /**
     * A registry request past its allowance whose bytes still arrive is left to finish, not cancelled
     * and sent again (which wastes what crossed the uplink: a loaded fan-out sent 1.38x the image); once its
     * bytes stop for {@code minRequestTimeout} it times out and the registry is asked again.
     */
    @Test
    void aSlowRegistryRequestWhoseBytesStillArriveIsNotGivenUp() throws Exception {
        PieceLayout one = new PieceLayout(PIECE, PIECE);
        byte[] small = java.util.Arrays.copyOf(blob, PIECE);
        sink = new MemorySink(io.layerswarm.oci.Digest.sha256(small), small.length);
        BlobDownload d = BlobDownload.start(loop, PieceHashes.compute(io.layerswarm.oci.Digest.sha256(small), one,
                new java.io.ByteArrayInputStream(small)), sink, PiecePicker.inOrder(), OriginGate.whenNoPeerHolds(),
                DownloadConfig.defaults(), listener, null);
        HandFed registry = new HandFed();
        d.addSource(registry, Bitfield.full(1));
        Await.until(Duration.ofSeconds(30), "the registry was asked", registry.requests::get, n -> n == 1);
        PieceRegion region = registry.regions.get(0);
        int[] written = {0};
        // 40 s of test time, far past the unmeasured allowance (4 x 5 s), with a few bytes every 500 ms
        Await.until(Duration.ofSeconds(30), "40 s of slow arrival", () -> {
            try {
                region.write(small, written[0], 100);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            written[0] += 100;
            return clock.addAndGet(Duration.ofMillis(500).toNanos()) > Duration.ofSeconds(40).toNanos();
        });
        region.write(small, written[0], PIECE - written[0]);
        registry.answers.get(0).complete(null);
        DownloadResult r = await(d);
        assertArrayEquals(small, sink.data);
        assertEquals(List.of(), backoffs, "the slow request was never given up");
        assertEquals(1, registry.requests.get());
    }

    @Test
    void aRegistryRequestWhoseBytesStoppedTimesOut() throws Exception {
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), listener);
        HandFed registry = new HandFed();
        d.addSource(registry, Bitfield.full(layout.count()));
        Await.until(Duration.ofSeconds(30), "the registry was asked", registry.requests::get, n -> n >= 1);
        PieceRegion stalled = registry.regions.get(0);
        stalled.write(blob, 0, 100); // then nothing more
        Await.until(Duration.ofSeconds(30), "the stalled request timed out", () -> {
            clock.addAndGet(Duration.ofMillis(500).toNanos());
            return stalled.revoked();
        });
        Await.until(Duration.ofSeconds(30), "piece 0 asked again after the backoff", () -> {
            clock.addAndGet(Duration.ofMillis(500).toNanos());
            return registry.regions.get(0) != stalled;
        });
        assertEquals(List.of(), banned);
        d.cancel();
    }

    /** Moves the test's clock on by 500 ms at every poll until the download ends. */
    private DownloadResult driveClockUntilDone(BlobDownload d) throws Exception {
        Await.until(Duration.ofSeconds(30), "the download ended", () -> {
            clock.addAndGet(Duration.ofMillis(500).toNanos());
            return d.completion().isDone();
        });
        return await(d);
    }
}
