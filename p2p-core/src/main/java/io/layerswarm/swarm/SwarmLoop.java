package io.layerswarm.swarm;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that owns swarm state: downloads, per-source statistics and the blacklist. Everything
 * that changes that state arrives as an event run on this thread, so none of it needs locks.
 */
public final class SwarmLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SwarmLoop.class);

    private final ScheduledExecutorService executor;
    private final LongSupplier nanoClock;
    private final Blacklist blacklist;
    private final Map<String, SourceStats> stats = new HashMap<>();
    private volatile Thread thread;

    /** A loop on the system clock. */
    public SwarmLoop() {
        this(System::nanoTime);
    }

    /** A loop on a given monotonic clock. */
    public SwarmLoop(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.blacklist = new Blacklist(nanoClock);
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "swarm-loop");
            t.setDaemon(true);
            thread = t;
            return t;
        });
    }

    /** Runs {@code event} on the loop. Exceptions are logged, never allowed to kill the loop. */
    public void post(Runnable event) {
        if (executor.isShutdown()) {
            log.debug("event=loop_closed dropped_event=true");
            return;
        }
        executor.execute(() -> {
            try {
                event.run();
            } catch (RuntimeException e) {
                log.error("event=loop_event_failed error={}", e.toString(), e);
            }
        });
    }

    /** Runs {@code query} on the loop and hands back its result. */
    public <T> java.util.concurrent.CompletableFuture<T> call(java.util.function.Supplier<T> query) {
        java.util.concurrent.CompletableFuture<T> f = new java.util.concurrent.CompletableFuture<>();
        executor.execute(() -> {
            try {
                f.complete(query.get());
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /** Runs {@code event} once on the loop after {@code delayMillis}. */
    public void after(long delayMillis, Runnable event) {
        executor.schedule(() -> {
            try {
                event.run();
            } catch (RuntimeException e) {
                log.error("event=loop_event_failed error={}", e.toString(), e);
            }
        }, delayMillis, TimeUnit.MILLISECONDS);
    }

    /** Runs {@code tick} every {@code periodMillis} on the loop until cancelled or the loop closes. */
    public java.util.concurrent.ScheduledFuture<?> every(long periodMillis, Runnable tick) {
        return executor.scheduleWithFixedDelay(() -> {
            try {
                tick.run();
            } catch (RuntimeException e) {
                log.error("event=loop_tick_failed error={}", e.toString(), e);
            }
        }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Whether the caller is the loop thread. */
    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Current monotonic time. */
    long nanoTime() {
        return nanoClock.getAsLong();
    }

    /** The blacklist; loop thread only. */
    Blacklist blacklist() {
        assertInLoop();
        return blacklist;
    }

    /** Whether a source is banned now (it failed repeatedly or lied); loop thread only. */
    public boolean isBanned(String sourceId) {
        return blacklist().isBanned(sourceId);
    }

    /** Records a measured round trip to a source (e.g. a libp2p ping); safe from any thread. */
    public void recordRtt(String sourceId, java.time.Duration rtt) {
        post(() -> stats(sourceId).recordRtt(rtt.toNanos() / 1e6));
    }

    /** Records a probe read of {@code bytes} from a source that took {@code elapsed}; safe from any thread. */
    public void recordProbe(String sourceId, long bytes, java.time.Duration elapsed) {
        post(() -> stats(sourceId).recordProbe(bytes, elapsed.toNanos()));
    }

    /** A snapshot of what has been measured of each source. */
    public java.util.concurrent.CompletableFuture<Map<String, SourceSnapshot>> snapshot() {
        return call(() -> {
            Map<String, SourceSnapshot> m = new HashMap<>();
            stats.forEach((id, s) -> m.put(id, new SourceSnapshot(s.rttMillis(), s.bytesPerSecond(), s.bytesReceived())));
            return Map.copyOf(m);
        });
    }

    /**
     * Measurements of one source.
     *
     * @param rttMillis smoothed round trip, NaN if never measured
     * @param bytesPerSecond smoothed piece throughput, 0 if none yet
     * @param bytesReceived verified bytes received from it
     */
    public record SourceSnapshot(double rttMillis, double bytesPerSecond, long bytesReceived) {
    }

    /** Statistics of a source, kept across downloads; loop thread only. */
    SourceStats stats(String sourceId) {
        assertInLoop();
        return stats.computeIfAbsent(sourceId, k -> new SourceStats());
    }

    private void assertInLoop() {
        if (!inLoop()) {
            throw new IllegalStateException("swarm state touched off the swarm loop");
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
