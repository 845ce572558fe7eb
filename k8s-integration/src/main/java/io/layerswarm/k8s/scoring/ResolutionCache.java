package io.layerswarm.k8s.scoring;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Remembers what a slow loader (a registry round trip) answered, so that scheduling calls answer from
 * memory. Per key: one load at a time, shared by every concurrent caller; a value is fresh for {@code
 * ttl}, after which it is still served while one background refresh runs; a failure is remembered for
 * {@code failureTtl} (a broken reference does not send every call to the registry) and then tried again;
 * at most {@code maxEntries} keys, the least recently used go first.
 *
 * @param <K> key
 * @param <V> value
 */
public final class ResolutionCache<K, V> {
    private final Function<K, V> loader;
    private final Executor executor;
    private final Duration ttl;
    private final Duration failureTtl;
    private final Clock clock;
    private final Map<K, Entry<V>> entries;

    /** One key's state; guarded by the cache's lock. */
    private static final class Entry<V> {
        V value;
        Throwable failure;
        Instant until;
        CompletableFuture<V> loading;
    }

    /**
     * @param loader loads one key, blocking; throws to fail
     * @param executor runs loads
     * @param ttl how long a value is served without a refresh
     * @param failureTtl how long a failure is answered without trying again
     * @param maxEntries keys kept at most
     * @param clock time source
     */
    public ResolutionCache(Function<K, V> loader, Executor executor, Duration ttl, Duration failureTtl, int maxEntries,
                           Clock clock) {
        if (maxEntries < 1 || ttl.isNegative() || failureTtl.isNegative()) {
            throw new IllegalArgumentException("maxEntries >= 1 and non-negative TTLs expected");
        }
        this.loader = Objects.requireNonNull(loader, "loader");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.ttl = ttl;
        this.failureTtl = failureTtl;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.entries = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, Entry<V>> eldest) {
                return size() > maxEntries;
            }
        };
    }

    /**
     * The key's value: at once when one is held (stale or not), else the running or a new load. Each caller
     * gets its own future, so one caller cancelling does not cancel the load for the others.
     */
    public CompletableFuture<V> get(K key) {
        CompletableFuture<V> load;
        synchronized (this) {
            Entry<V> e = entries.get(key);
            Instant now = clock.instant();
            if (e != null && e.value != null) {
                if (now.isAfter(e.until) && e.loading == null) {
                    start(key, e); // refresh behind the stale value
                }
                return CompletableFuture.completedFuture(e.value);
            }
            if (e != null && e.loading != null) {
                return e.loading.copy();
            }
            if (e != null && e.failure != null && !now.isAfter(e.until)) {
                return CompletableFuture.failedFuture(e.failure);
            }
            if (e == null) {
                e = new Entry<>();
                entries.put(key, e);
            }
            load = start(key, e);
        }
        return load.copy();
    }

    /** Keys held (values, failures and running loads). */
    public synchronized int size() {
        return entries.size();
    }

    /** Starts a load for {@code e}; the caller holds the lock. */
    private CompletableFuture<V> start(K key, Entry<V> e) {
        CompletableFuture<V> f = new CompletableFuture<>();
        e.loading = f;
        try {
            executor.execute(() -> run(key, e, f));
        } catch (RuntimeException rejected) {
            e.loading = null;
            f.completeExceptionally(rejected);
        }
        return f;
    }

    private void run(K key, Entry<V> e, CompletableFuture<V> f) {
        V v = null;
        Throwable t = null;
        try {
            v = Objects.requireNonNull(loader.apply(key), "loader returned null");
        } catch (Throwable x) {
            t = x instanceof CompletionException && x.getCause() != null ? x.getCause() : x;
        }
        synchronized (this) {
            e.loading = null;
            if (t == null) {
                e.value = v;
                e.failure = null;
                e.until = clock.instant().plus(ttl);
            } else {
                // a failed refresh keeps the old value; either way the next try waits failureTtl
                e.failure = e.value == null ? t : null;
                e.until = clock.instant().plus(failureTtl);
            }
        }
        if (t == null) {
            f.complete(v);
        } else {
            f.completeExceptionally(t);
        }
    }
}
