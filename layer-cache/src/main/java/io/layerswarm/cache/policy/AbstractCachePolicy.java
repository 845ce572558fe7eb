package io.layerswarm.cache.policy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Shared bookkeeping: pin counts, the eviction list of the current call, and the request flow
 * (pin the request's layers, access them, release, fit the capacity).
 */
public abstract class AbstractCachePolicy implements CachePolicy {

    private final Map<String, Integer> pins = new HashMap<>();
    private final List<String> evictions = new ArrayList<>();
    /** Capacity in bytes. */
    protected long capacity;

    /** Starts with a capacity in bytes. */
    protected AbstractCachePolicy(long capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("negative capacity " + capacity);
        }
        this.capacity = capacity;
    }

    @Override
    public final long capacity() {
        return capacity;
    }

    @Override
    public final List<String> request(ImageRequest request) {
        for (LayerRef l : request.layers()) {
            pin(l.key());
        }
        try {
            onRequest(request);
        } finally {
            for (LayerRef l : request.layers()) {
                release(l.key());
            }
        }
        fit();
        return drain();
    }

    @Override
    public final List<String> setCapacity(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative capacity " + bytes);
        }
        capacity = bytes;
        onCapacityChanged();
        fit();
        return drain();
    }

    @Override
    public final void pin(String key) {
        int n = pins.merge(key, 1, Integer::sum);
        if (n == 1) {
            onPinChanged(key, true);
        }
    }

    @Override
    public final List<String> unpin(String key) {
        release(key);
        fit();
        return drain();
    }

    private void release(String key) {
        Integer n = pins.get(key);
        if (n == null) {
            throw new IllegalStateException("unpin of " + key + " which is not pinned");
        }
        if (n == 1) {
            pins.remove(key);
            onPinChanged(key, false);
        } else {
            pins.put(key, n - 1);
        }
    }

    @Override
    public final boolean isPinned(String key) {
        return pins.containsKey(key);
    }

    @Override
    public final List<String> restore(PolicyState state, Map<String, Long> onDisk) {
        PolicyState usable = state != null && name().equals(state.policy()) ? state : null;
        onRestore(usable, onDisk);
        fit();
        return drain();
    }

    /** Records that {@code key} leaves the cache in the current call. */
    protected final void evicted(String key) {
        evictions.add(key);
    }

    /** Returns and clears the evictions of the current call. */
    protected final List<String> drain() {
        if (evictions.isEmpty()) {
            return List.of();
        }
        List<String> out = List.copyOf(evictions);
        evictions.clear();
        return out;
    }

    /** Accesses every layer of the request; the request's layers are pinned meanwhile. */
    protected abstract void onRequest(ImageRequest request);

    /** Evicts unpinned keys (calling {@link #evicted}) until the capacity is respected or nothing is evictable. */
    protected abstract void fit();

    /** Rebuilds from a state of this policy (or {@code null}) and the on-disk blobs. */
    protected abstract void onRestore(PolicyState state, Map<String, Long> onDisk);

    /** Hook: the capacity changed (before {@link #fit}). */
    protected void onCapacityChanged() {
    }

    /** Hook: {@code key} became pinned or unpinned. */
    protected void onPinChanged(String key, boolean pinned) {
    }
}
