package io.layerswarm.cache.policy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whole images as the unit of eviction, least recently used first, as container runtimes and the
 * kubelet do. A layer stays while any remaining image references it. Garbage collection starts when
 * usage exceeds {@code high} times the capacity and frees images until usage is at most {@code low}
 * times the capacity; images with a pinned layer are in use and skipped.
 *
 * <p>{@link #imageLru} collects at 100%/100% (a plain image LRU); {@link #kubeletGc} uses the
 * kubelet's defaults {@code imageGCHighThresholdPercent=85} and {@code imageGCLowThresholdPercent=80}.
 */
public final class ImageGranularityPolicy extends AbstractCachePolicy {
    private final String name;
    private final double high;
    private final double low;
    /** Images, least recently used first, with their layer keys. */
    private final LinkedHashMap<String, List<String>> images = new LinkedHashMap<>();
    private final Map<String, Integer> refs = new HashMap<>();
    private final Map<String, Long> sizes = new LinkedHashMap<>();
    private long used;

    private ImageGranularityPolicy(String name, long capacity, double high, double low) {
        super(capacity);
        if (!(low > 0 && low <= high && high <= 1)) {
            throw new IllegalArgumentException("need 0 < low <= high <= 1, got " + low + "/" + high);
        }
        this.name = name;
        this.high = high;
        this.low = low;
    }

    /** Image-granularity LRU that evicts only when over the capacity, down to the capacity. */
    public static ImageGranularityPolicy imageLru(long capacity) {
        return new ImageGranularityPolicy("image-lru", capacity, 1.0, 1.0);
    }

    /** Kubernetes image garbage collection with the kubelet's default 85%/80% thresholds. */
    public static ImageGranularityPolicy kubeletGc(long capacity) {
        return kubeletGc(capacity, 0.85, 0.80);
    }

    /** Kubernetes image garbage collection with explicit thresholds (fractions of the capacity). */
    public static ImageGranularityPolicy kubeletGc(long capacity, double high, double low) {
        return new ImageGranularityPolicy("k8s-gc", capacity, high, low);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long weightedSize() {
        return used;
    }

    @Override
    public boolean contains(String key) {
        return sizes.containsKey(key);
    }

    @Override
    public Set<String> residentKeys() {
        return new LinkedHashSet<>(sizes.keySet());
    }

    /** Resident image names, least recently used first. */
    public List<String> residentImages() {
        return List.copyOf(images.keySet());
    }

    @Override
    protected void onRequest(ImageRequest request) {
        List<String> known = images.remove(request.image());
        List<String> keys = new ArrayList<>(request.layers().size());
        for (LayerRef l : request.layers()) {
            keys.add(l.key());
        }
        for (LayerRef l : request.layers()) {
            ref(l.key(), l.size());
        }
        if (known != null) {
            // Re-deployed name (a moved tag): drop the old references after taking the new ones,
            // so shared layers stay; a layer only the old content used leaves the cache.
            for (String k : known) {
                if (isPinned(k) && refs.get(k) == 1) {
                    // In use: it stays as a one-layer image, collectable once unpinned.
                    images.put(ImageRequest.ofLayer(k, 0).image(), new ArrayList<>(List.of(k)));
                } else if (unref(k)) {
                    evicted(k);
                }
            }
        }
        images.put(request.image(), keys);
    }

    private void ref(String key, long size) {
        if (refs.merge(key, 1, Integer::sum) == 1 && !sizes.containsKey(key)) {
            sizes.put(key, size);
            used += size;
        }
    }

    /** Drops one reference; returns true when the layer left the cache. */
    private boolean unref(String key) {
        Integer n = refs.get(key);
        if (n == null) {
            return false;
        }
        if (n > 1) {
            refs.put(key, n - 1);
            return false;
        }
        refs.remove(key);
        Long size = sizes.remove(key);
        if (size != null) {
            used -= size;
        }
        return size != null;
    }

    @Override
    protected void fit() {
        if (used <= high * capacity) {
            return;
        }
        double goal = low * capacity;
        Iterator<Map.Entry<String, List<String>>> it = images.entrySet().iterator();
        while (used > goal && it.hasNext()) {
            Map.Entry<String, List<String>> image = it.next();
            if (image.getValue().stream().anyMatch(this::isPinned)) {
                continue; // in use
            }
            it.remove();
            for (String k : image.getValue()) {
                if (unref(k)) {
                    evicted(k);
                }
            }
        }
    }

    @Override
    public void remove(String key) {
        Long size = sizes.remove(key);
        if (size == null) {
            return;
        }
        used -= size;
        refs.remove(key);
        for (List<String> layers : images.values()) {
            layers.remove(key);
        }
    }

    @Override
    public PolicyState exportState() {
        List<PolicyState.Entry> imgs = new ArrayList<>();
        images.forEach((img, layers) -> imgs.add(new PolicyState.Entry(img, 0, layers)));
        List<PolicyState.Entry> layers = new ArrayList<>();
        sizes.forEach((k, s) -> layers.add(PolicyState.Entry.layer(k, s)));
        return new PolicyState(name, capacity, Map.of(), Map.of("images", imgs, "layers", layers));
    }

    @Override
    protected void onRestore(PolicyState state, Map<String, Long> onDisk) {
        images.clear();
        refs.clear();
        sizes.clear();
        used = 0;
        if (state != null) {
            for (PolicyState.Entry e : state.segment("images")) {
                List<String> present = new ArrayList<>();
                for (String k : e.layers()) {
                    Long size = onDisk.get(k);
                    if (size != null && !present.contains(k)) {
                        present.add(k);
                        ref(k, size);
                    }
                }
                if (!present.isEmpty()) {
                    images.remove(e.key());
                    images.put(e.key(), present);
                }
            }
        }
        // Blobs no remembered image references become one-layer images, newest.
        onDisk.forEach((k, size) -> {
            if (!sizes.containsKey(k)) {
                String img = ImageRequest.ofLayer(k, size).image();
                ref(k, size);
                images.put(img, new ArrayList<>(List.of(k)));
            }
        });
    }
}
