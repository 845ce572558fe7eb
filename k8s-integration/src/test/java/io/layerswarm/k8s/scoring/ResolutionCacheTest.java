package io.layerswarm.k8s.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ResolutionCacheTest {
    private static final Duration TTL = Duration.ofMinutes(5);
    private static final Duration FAILURE_TTL = Duration.ofSeconds(15);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    /** Loads run when the test says so. */
    private final Queue<Runnable> pending = new ArrayDeque<>();
    private final AtomicInteger loads = new AtomicInteger();

    private ResolutionCache<String, String> cache(Function<String, String> loader, int max) {
        return new ResolutionCache<>(k -> {
            loads.incrementAndGet();
            return loader.apply(k);
        }, pending::add, TTL, FAILURE_TTL, max, clock);
    }

    private void runPending() {
        while (!pending.isEmpty()) {
            pending.poll().run();
        }
    }

    @Test
    void concurrentCallersShareOneLoad() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(9);
        try {
            ResolutionCache<String, String> c = new ResolutionCache<>(k -> {
                loads.incrementAndGet();
                try {
                    release.await(); // the load is still running while every caller asks
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "layers of " + k;
            }, pool, TTL, FAILURE_TTL, 16, clock);
            CountDownLatch start = new CountDownLatch(1);
            List<CompletableFuture<CompletableFuture<String>>> callers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                callers.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return c.get("web:1");
                }, pool));
            }
            start.countDown();
            List<CompletableFuture<String>> answers = new ArrayList<>();
            for (CompletableFuture<CompletableFuture<String>> f : callers) {
                answers.add(f.get(10, TimeUnit.SECONDS));
            }
            assertTrue(answers.stream().noneMatch(CompletableFuture::isDone), "all wait on the one running load");
            release.countDown();
            for (CompletableFuture<String> a : answers) {
                assertEquals("layers of web:1", a.get(10, TimeUnit.SECONDS));
            }
            assertEquals(1, loads.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aCallerCancellingDoesNotCancelTheLoadForTheOthers() throws Exception {
        ResolutionCache<String, String> c = cache(k -> "v", 16);
        CompletableFuture<String> impatient = c.get("k");
        CompletableFuture<String> patient = c.get("k");
        impatient.cancel(true);
        runPending();
        assertEquals("v", patient.get(1, TimeUnit.SECONDS));
        assertEquals(1, loads.get());
    }

    @Test
    void aValueIsFreshForTheTtlThenServedStaleWhileOneRefreshRuns() throws Exception {
        String[] answer = {"v1"};
        ResolutionCache<String, String> c = cache(k -> answer[0], 16);
        CompletableFuture<String> first = c.get("k");
        assertFalse(first.isDone());
        runPending();
        assertEquals("v1", first.get(1, TimeUnit.SECONDS));
        clock.advance(TTL);
        assertEquals("v1", c.get("k").getNow(null), "fresh up to the TTL");
        assertTrue(pending.isEmpty(), "no registry call while fresh");
        clock.advance(Duration.ofSeconds(1));
        answer[0] = "v2";
        assertEquals("v1", c.get("k").getNow(null), "stale, answered at once");
        assertEquals("v1", c.get("k").getNow(null));
        assertEquals(1, pending.size(), "one refresh for any number of callers");
        runPending();
        assertEquals("v2", c.get("k").getNow(null));
        assertEquals(2, loads.get());
    }

    @Test
    void aFailureIsRememberedForItsTtlThenTriedAgain() throws Exception {
        boolean[] broken = {true};
        ResolutionCache<String, String> c = cache(k -> {
            if (broken[0]) {
                throw new IllegalStateException("cannot resolve " + k + ": registry down");
            }
            return "v";
        }, 16);
        CompletableFuture<String> f = c.get("k");
        runPending();
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(1, TimeUnit.SECONDS));
        assertEquals("cannot resolve k: registry down", e.getCause().getMessage());
        clock.advance(FAILURE_TTL);
        assertTrue(c.get("k").isCompletedExceptionally(), "answered from memory within the failure TTL");
        assertTrue(pending.isEmpty());
        broken[0] = false;
        clock.advance(Duration.ofSeconds(1));
        CompletableFuture<String> retry = c.get("k");
        assertEquals(1, pending.size(), "not cached forever: tried again");
        runPending();
        assertEquals("v", retry.get(1, TimeUnit.SECONDS));
        assertEquals(2, loads.get());
    }

    @Test
    void aFailedRefreshKeepsTheOldValueAndWaitsTheFailureTtl() {
        boolean[] broken = {false};
        ResolutionCache<String, String> c = cache(k -> {
            if (broken[0]) {
                throw new IllegalStateException("registry down");
            }
            return "v";
        }, 16);
        c.get("k");
        runPending();
        broken[0] = true;
        clock.advance(TTL.plusSeconds(1));
        assertEquals("v", c.get("k").getNow(null));
        runPending(); // the refresh fails
        assertEquals("v", c.get("k").getNow(null));
        assertTrue(pending.isEmpty(), "no new refresh within the failure TTL");
        clock.advance(FAILURE_TTL.plusSeconds(1));
        assertEquals("v", c.get("k").getNow(null));
        assertEquals(1, pending.size(), "then refreshed again");
    }

    @Test
    void theLeastRecentlyUsedKeyGoesBeyondTheBound() {
        ResolutionCache<String, String> c = cache(k -> "v-" + k, 2);
        c.get("a");
        c.get("b");
        runPending();
        assertEquals("v-a", c.get("a").getNow(null)); // a is now the most recently used
        c.get("c");
        runPending();
        assertEquals(2, c.size());
        assertEquals(3, loads.get());
        assertEquals("v-a", c.get("a").getNow(null));
        assertTrue(pending.isEmpty(), "a kept");
        assertFalse(c.get("b").isDone(), "b went and is loaded again");
        assertEquals(1, pending.size());
    }
}
