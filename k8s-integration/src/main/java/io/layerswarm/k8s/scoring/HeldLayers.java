package io.layerswarm.k8s.scoring;

import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Per node, how much of a pod's layers it holds, worked out from each layer's holders
 * ({@link ClusterView#holding}, computed once per layer and shared by every scoring term of a call on a
 * {@link io.layerswarm.k8s.view.ClusterSnapshot}) instead of asking every candidate about every layer:
 * the work is the sum of the layers' holder counts, not candidates x layers look-ups. A node absent here
 * holds none of the layers.
 */
final class HeldLayers {

    /** What one node holds of the pod's layers. */
    static final class Held {
        /** Bytes of the pod's distinct layers the node holds. */
        long bytes;
        /** Sum over the held layers of size x holders / nodes, in layer order (LayerLocality's spread numerator). */
        double spread;
    }

    private final long totalBytes;
    private final Map<String, Held> byNode;

    private HeldLayers(long totalBytes, Map<String, Held> byNode) {
        this.totalBytes = totalBytes;
        this.byNode = byNode;
    }

    /**
     * @param layers the pod's distinct layers
     * @param view where the holders come from
     * @param totalNodes the node count the spread divides by (at least 1)
     */
    static HeldLayers of(List<LayerInfo> layers, ClusterView view, int totalNodes) {
        long total = 0;
        Map<String, Held> byNode = new HashMap<>();
        // layer by layer, so each node's spread sums in layer order, the order a per-node scan would use
        for (LayerInfo l : layers) {
            total += l.size();
            List<NodeStatus> holding = view.holding(l.digest());
            int holders = holding.size();
            for (NodeStatus h : holding) {
                Held held = byNode.computeIfAbsent(h.nodeName(), k -> new Held());
                held.bytes += l.size();
                held.spread += l.size() * (double) holders / totalNodes;
            }
        }
        return new HeldLayers(total, byNode);
    }

    /** Bytes of the pod's distinct layers. */
    long totalBytes() {
        return totalBytes;
    }

    /** Bytes of the pod's layers {@code node} holds. */
    long heldBytes(String node) {
        Held h = byNode.get(node);
        return h == null ? 0 : h.bytes;
    }

    /** The spread numerator of {@code node} (0 if it holds none of the layers). */
    double heldSpread(String node) {
        Held h = byNode.get(node);
        return h == null ? 0 : h.spread;
    }
}
