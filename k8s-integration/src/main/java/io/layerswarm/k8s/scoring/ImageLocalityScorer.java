package io.layerswarm.k8s.scoring;

import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The in-tree ImageLocality plugin as the baseline. Per container image present on the node (all of its
 * layers held, the whole-image granularity kubelet reports): {@code size x nodesWithImage / totalNodes},
 * summed, clamped to [23 MiB, 1000 MiB x containers], scaled to 0..100 and here to 0..10.
 */
public final class ImageLocalityScorer implements NodeScorer {
    static final long MB = 1024 * 1024;
    static final long MIN_THRESHOLD = 23 * MB;
    static final long MAX_CONTAINER_THRESHOLD = 1000 * MB;

    @Override
    public String name() {
        return "image-locality";
    }

    @Override
    public Map<String, Double> score(PodLayers pod, List<String> candidates, ClusterView view) {
        int totalNodes = Math.max(1, Math.max(view.nodes().size(), candidates.size()));
        Map<String, Integer> withImage = new LinkedHashMap<>();
        for (ImageLayers image : pod.images()) {
            int n = 0;
            for (NodeStatus s : view.nodes()) {
                if (hasImage(s, image)) {
                    n++;
                }
            }
            withImage.put(image.image(), n);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (String node : candidates) {
            NodeStatus s = view.node(node).orElse(null);
            long sum = 0;
            if (s != null) {
                for (ImageLayers image : pod.images()) {
                    if (hasImage(s, image)) {
                        sum += (long) (image.size() * ((double) withImage.get(image.image()) / totalNodes));
                    }
                }
            }
            out.put(node, scale(sum, Math.max(1, pod.containers())) / 10.0);
        }
        return out;
    }

    /** {@code calculatePriority} of the plugin: 0..100. */
    static long scale(long sumScores, int containers) {
        long max = MAX_CONTAINER_THRESHOLD * containers;
        long clamped = Math.min(Math.max(sumScores, MIN_THRESHOLD), max);
        return 100 * (clamped - MIN_THRESHOLD) / (max - MIN_THRESHOLD);
    }

    private static boolean hasImage(NodeStatus s, ImageLayers image) {
        for (LayerInfo l : image.layers()) {
            if (!s.holds(l.digest())) {
                return false;
            }
        }
        return !image.layers().isEmpty();
    }
}
