package io.layerswarm.daemon.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The stock-Kubernetes image garbage collection of the testbed's baseline, per worker: when the images'
 * bytes exceed the high mark (85 % of the capacity), least recently used images are removed until they
 * are at or below the low mark (80 %), as kubelet's {@code imageGCHighThresholdPercent} /
 * {@code imageGCLowThresholdPercent} do. Bytes are distinct layer bytes (a layer two images share counts
 * once, as on disk). Pure bookkeeping: the driver removes the returned images from containerd.
 */
final class KubeletImageGc {
    static final double HIGH = 0.85;
    static final double LOW = 0.80;

    private final long capacity;
    /** Image to its layers (digest to size), least recently used first. */
    private final LinkedHashMap<String, Map<String, Long>> images = new LinkedHashMap<>(16, 0.75f, true);

    /** @param capacity image bytes the worker may keep; 0 keeps nothing after a deployment */
    KubeletImageGc(long capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("negative capacity " + capacity);
        }
        this.capacity = capacity;
    }

    /** Whether all of the image is present (kubelet reports whole images). */
    boolean has(String image) {
        return images.containsKey(image);
    }

    /** Images present, least recently used first. */
    List<String> images() {
        return List.copyOf(images.keySet());
    }

    /** Distinct layer bytes of the images present. */
    long usedBytes() {
        Map<String, Long> layers = new HashMap<>();
        images.values().forEach(layers::putAll);
        return layers.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Digest to size of the layers present. */
    Map<String, Long> layers() {
        Map<String, Long> layers = new HashMap<>();
        images.values().forEach(layers::putAll);
        return layers;
    }

    /** Records that {@code image} was pulled or used now. */
    void used(String image, Map<String, Long> layers) {
        images.put(image, Map.copyOf(layers));
    }

    /**
     * Runs the collection once: the images to remove, oldest first (none below the high mark).
     * They are forgotten here; the caller removes them from the runtime.
     */
    List<String> collect() {
        List<String> removed = new ArrayList<>();
        if (usedBytes() <= HIGH * capacity) {
            return removed;
        }
        while (!images.isEmpty() && usedBytes() > LOW * capacity) {
            String oldest = images.keySet().iterator().next();
            images.remove(oldest);
            removed.add(oldest);
        }
        return removed;
    }
}
