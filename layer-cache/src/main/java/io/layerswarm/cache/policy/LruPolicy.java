package io.layerswarm.cache.policy;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** Layer-granularity least-recently-used: the baseline every other policy must beat. */
public final class LruPolicy extends AbstractCachePolicy {
    private final WeightedList list = new WeightedList();

    /** An empty LRU cache of {@code capacity} bytes. */
    public LruPolicy(long capacity) {
        super(capacity);
    }

    @Override
    public String name() {
        return "lru";
    }

    @Override
    public long weightedSize() {
        return list.bytes();
    }

    @Override
    public boolean contains(String key) {
        return list.contains(key);
    }

    @Override
    public Set<String> residentKeys() {
        Set<String> out = new LinkedHashSet<>();
        list.keys().forEach(out::add);
        return out;
    }

    @Override
    protected void onRequest(ImageRequest request) {
        for (LayerRef l : request.layers()) {
            Long w = list.weight(l.key());
            list.addMostRecent(l.key(), w != null ? w : l.size());
        }
    }

    @Override
    protected void fit() {
        while (list.bytes() > capacity) {
            String victim = list.eldest(k -> !isPinned(k));
            if (victim == null) {
                return;
            }
            list.remove(victim);
            evicted(victim);
        }
    }

    @Override
    public void remove(String key) {
        list.remove(key);
    }

    @Override
    public PolicyState exportState() {
        return new PolicyState(name(), capacity, Map.of(), Map.of("lru", list.export()));
    }

    @Override
    protected void onRestore(PolicyState state, Map<String, Long> onDisk) {
        list.clear();
        if (state != null) {
            for (PolicyState.Entry e : state.segment("lru")) {
                Long size = onDisk.get(e.key());
                if (size != null) {
                    list.addMostRecent(e.key(), size);
                }
            }
        }
        onDisk.forEach((k, size) -> {
            if (!list.contains(k)) {
                list.addMostRecent(k, size);
            }
        });
    }
}
