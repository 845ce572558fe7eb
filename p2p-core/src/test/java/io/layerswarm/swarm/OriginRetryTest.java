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

    /** Moves the test's clock on by 500 ms at every poll until the download ends. */
    private DownloadResult driveClockUntilDone(BlobDownload d) throws Exception {
        Await.until(Duration.ofSeconds(30), "the download ended", () -> {
            clock.addAndGet(Duration.ofMillis(500).toNanos());
            return d.completion().isDone();
        });
        return await(d);
    }
}
