package io.layerswarm.k8s.scoring;

import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LayerLocality = cacheHitScore x spread + cacheFreeScore, at layer granularity (definitions in the
 * README section "Scheduling"). With L the pod's distinct layers, s(l) their sizes, H the layers node n
 * holds, h(l) the number of nodes holding l and N the number of nodes:
 * <ul>
 *   <li>cacheHitScore = sum over H of s(l) / sum over L of s(l): the byte share already local;</li>
 *   <li>spread = sum over H of s(l) h(l)/N / sum over H of s(l): how widely the held bytes are
 *       replicated; as in-tree, rare content earns less so the first node to pull an image does not
 *       attract every later replica;</li>
 *   <li>cacheFreeScore = (room - missing) / capacity, clamped to [0, 1]: headroom left after the pull,
 *       so that among equal hits the node with room wins and full nodes are not piled on.</li>
 * </ul>
 * The raw value (0..1 + freeWeight) maps linearly to 0..10.
 */
public final class LayerLocalityScorer implements NodeScorer {
    private final double freeWeight;

    /** @param freeWeight weight of cacheFreeScore against the hit term (the hit term has weight 1) */
    public LayerLocalityScorer(double freeWeight) {
        if (!(freeWeight >= 0)) {
            throw new IllegalArgumentException("freeWeight must be >= 0");
        }
        this.freeWeight = freeWeight;
    }

    /** The default: headroom counts a quarter of a full hit. */
    public LayerLocalityScorer() {
        this(0.25);
    }

    @Override
    public String name() {
        return "layer-locality";
    }

    @Override
    public Map<String, Double> score(PodLayers pod, List<String> candidates, ClusterView view) {
        List<LayerInfo> layers = pod.distinctLayers();
        int totalNodes = Math.max(1, Math.max(view.nodes().size(), candidates.size()));
        // per layer its holders (shared with the other terms on a snapshot), not per candidate every layer
        HeldLayers held = HeldLayers.of(layers, view, totalNodes);
        Map<String, Double> out = new LinkedHashMap<>();
        for (String node : candidates) {
            NodeStatus s = view.node(node).orElse(null);
            out.put(node, s == null ? 0.0 : NodeScorer.MAX * raw(s, held) / (1 + freeWeight));
        }
        return out;
    }

    private double raw(NodeStatus s, HeldLayers layers) {
        long total = layers.totalBytes();
        long held = layers.heldBytes(s.nodeName());
        double hit = total == 0 ? 0 : (double) held / total;
        double spread = held == 0 ? 0 : layers.heldSpread(s.nodeName()) / held;
        return hit * spread + freeWeight * cacheFree(s, total - held);
    }

    /** cacheFreeScore: headroom after taking {@code missing} bytes, as a share of capacity. */
    static double cacheFree(NodeStatus s, long missing) {
        if (s.capacityBytes() == Long.MAX_VALUE) {
            return 1;
        }
        if (s.capacityBytes() == 0) {
            return 0;
        }
        double left = (double) s.roomBytes() - missing;
        return Math.max(0, Math.min(1, left / s.capacityBytes()));
    }
}
