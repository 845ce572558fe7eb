package io.layerswarm.cache.policy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Policy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Caffeine's W-TinyLFU with a weigher, driven synchronously so every decision is visible at once.
 * Weights are kibibytes (rounded up) because Caffeine weighs in {@code int}. A pinned layer weighs
 * zero, which Caffeine never evicts for size; unpinning re-weighs it and lets eviction run.
 */
public final class TinyLfuPolicy extends AbstractCachePolicy {
    private final Map<String, Long> sizes = new LinkedHashMap<>();
    private final Cache<String, Long> cache;
    private final Policy.Eviction<String, Long> eviction;
    private long bytes;

    /** An empty W-TinyLFU cache of {@code capacity} bytes. */
    public TinyLfuPolicy(long capacity) {
        super(capacity);
        this.cache = Caffeine.newBuilder()
                .maximumWeight(kib(capacity))
                .weigher((String k, Long size) -> isPinned(k) ? 0 : (int) Math.min(Integer.MAX_VALUE, kib(size)))
                .executor(Runnable::run)
                .evictionListener((String k, Long size, com.github.benmanes.caffeine.cache.RemovalCause cause) -> {
                    if (k != null && cause.wasEvicted()) {
                        untrack(k);
                        evicted(k);
                    }
                })
                .build();
        this.eviction = cache.policy().eviction().orElseThrow();
    }

    private static long kib(long bytes) {
        return (bytes + 1023) / 1024;
    }

    @Override
    public String name() {
        return "tinylfu";
    }

    @Override
    public long weightedSize() {
        return bytes;
    }

    private void track(String key, long size) {
        Long old = sizes.put(key, size);
        bytes += size - (old == null ? 0 : old);
    }

    private void untrack(String key) {
        Long old = sizes.remove(key);
        if (old != null) {
            bytes -= old;
        }
    }

    @Override
    public boolean contains(String key) {
        return sizes.containsKey(key);
    }

    @Override
    public Set<String> residentKeys() {
        return new LinkedHashSet<>(sizes.keySet());
    }

    @Override
    protected void onRequest(ImageRequest request) {
        for (LayerRef l : request.layers()) {
            if (cache.getIfPresent(l.key()) == null) {
                track(l.key(), l.size());
                cache.put(l.key(), l.size());
            }
        }
        cache.cleanUp();
    }

    @Override
    protected void fit() {
        cache.cleanUp();
    }

    @Override
    protected void onCapacityChanged() {
        eviction.setMaximum(kib(capacity));
    }

    @Override
    protected void onPinChanged(String key, boolean pinned) {
        // Re-putting the same value makes Caffeine re-weigh the entry.
        cache.asMap().computeIfPresent(key, (k, v) -> v);
    }

    @Override
    public void remove(String key) {
        if (sizes.containsKey(key)) {
            untrack(key);
            cache.invalidate(key);
        }
    }

    @Override
    public PolicyState exportState() {
        List<PolicyState.Entry> order = new ArrayList<>();
        eviction.coldest(Integer.MAX_VALUE).forEach((k, size) -> order.add(PolicyState.Entry.layer(k, size)));
        return new PolicyState(name(), capacity, Map.of(), Map.of("coldest-first", order));
    }

    @Override
    protected void onRestore(PolicyState state, Map<String, Long> onDisk) {
        cache.invalidateAll();
        sizes.clear();
        bytes = 0;
        drain(); // invalidation is not eviction, but be safe
        // Frequencies are not exported by Caffeine; replaying the order rebuilds recency only.
        if (state != null) {
            for (PolicyState.Entry e : state.segment("coldest-first")) {
                Long size = onDisk.get(e.key());
                if (size != null) {
                    track(e.key(), size);
                    cache.put(e.key(), size);
                }
            }
        }
        onDisk.forEach((k, size) -> {
            if (!sizes.containsKey(k)) {
                track(k, size);
                cache.put(k, size);
            }
        });
    }
}
