package io.layerswarm.k8s.scoring;

import io.layerswarm.k8s.view.NodeStatus;
import java.util.Locale;
import java.util.Optional;

/**
 * Fails a node whose layer cache cannot take the pod's missing layer bytes: free plus evictable
 * (unpinned) bytes must cover them, or the pull would run the node's disk out (the ephemeral-storage
 * concern).
 */
public final class CacheFitFilter {

    /** The reason the node fails, or empty when it fits. */
    public Optional<String> check(PodLayers pod, NodeStatus node) {
        return check(missingBytes(pod, node), node);
    }

    /** The reason the node fails to take {@code missing} bytes of layers, or empty when it fits. */
    public Optional<String> check(long missing, NodeStatus node) {
        if (missing <= node.roomBytes()) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT,
                "layerswarm: layer cache cannot take the pod's %s of missing layers: %s free + %s evictable (unpinned)",
                human(missing), human(node.freeBytes()), human(node.evictableBytes())));
    }

    /** Bytes of the pod's distinct layers the node does not hold. */
    public static long missingBytes(PodLayers pod, NodeStatus node) {
        long m = 0;
        for (LayerInfo l : pod.distinctLayers()) {
            if (!node.holds(l.digest())) {
                m += l.size();
            }
        }
        return m;
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
