package io.layerswarm.k8s.extender;

import io.fabric8.kubernetes.api.model.Pod;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The container images of the pods the extender scored lately, by {@code namespace/name}. kube-scheduler's
 * bind call names only the pod: with an API server the bind hook reads the pod back, without one (a
 * standalone scheduler driving {@code --no-kubernetes}) the pod the scheduler filtered and prioritized just
 * before is where the bind finds the images to preheat. Bounded: the least recently seen pod leaves first.
 */
public final class SeenPods {
    private final int capacity;
    /** Guarded by this; access order, so the eldest entry is the least recently seen. */
    private final LinkedHashMap<String, List<String>> byPod;

    /** @param capacity pods remembered at most (a scheduler binds a pod right after scoring it, so a few hundred do) */
    public SeenPods(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.byPod = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, List<String>> eldest) {
                return size() > SeenPods.this.capacity;
            }
        };
    }

    /** Remembers {@code pod}'s images (init containers first); a pod without a name is not remembered. */
    public void seen(Pod pod) {
        if (pod == null || pod.getMetadata() == null || pod.getMetadata().getName() == null) {
            return;
        }
        String ns = pod.getMetadata().getNamespace() == null ? "" : pod.getMetadata().getNamespace();
        List<String> images = List.copyOf(SchedulingEngine.images(pod));
        synchronized (this) {
            byPod.put(ns + "/" + pod.getMetadata().getName(), images);
        }
    }

    /** The images of the pod last seen under this name, if it is still remembered. */
    public synchronized Optional<List<String>> images(String namespace, String name) {
        return Optional.ofNullable(byPod.get((namespace == null ? "" : namespace) + "/" + name));
    }
}
