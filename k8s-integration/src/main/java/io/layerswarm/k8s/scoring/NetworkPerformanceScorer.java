package io.layerswarm.k8s.scoring;

import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.NodeStatus;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * NetworkPerformance: how fast the node can fetch, independent of what it holds. Its throughput for a
 * reference transfer of 16 MiB ({@link LinkEstimate#referenceThroughput()}: {@code 16 MiB / (rtt + 16 MiB /
 * bandwidth)}, which charges latency the way a layer fetch feels it) over its best measured path: to the
 * pod's registry or to any peer that holds one of the pod's layers. The best candidate gets 10, others
 * proportionally less.
 *
 * <p>A node's peer links come ranked by that same throughput ({@link NodeStatus#peers()} iterates best
 * first), so the best peer path is the first holder in the ranking: each candidate walks its ranking and
 * stops there, or as soon as peers get no faster than its registry path.
 */
public final class NetworkPerformanceScorer implements NodeScorer {

    @Override
    public String name() {
        return "network";
    }

    @Override
    public Map<String, Double> score(PodLayers pod, List<String> candidates, ClusterView view) {
        Map<String, Double> thr = new LinkedHashMap<>();
        double best = 0;
        Set<String> holdersOfAny = new HashSet<>(); // worked out once per call, not once per candidate
        for (LayerInfo l : pod.distinctLayers()) {
            view.holding(l.digest()).forEach(h -> holdersOfAny.add(h.nodeName()));
        }
        for (String node : candidates) {
            NodeStatus s = view.node(node).orElse(null);
            if (s == null) {
                continue;
            }
            double t = throughput(s, pod, holdersOfAny);
            thr.put(node, t);
            best = Math.max(best, t);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (String node : candidates) {
            Double t = thr.get(node);
            out.put(node, t == null || best == 0 ? 0.0 : NodeScorer.MAX * t / best);
        }
        return out;
    }

    private static double throughput(NodeStatus s, PodLayers pod, Set<String> holdersOfAny) {
        double best = 0;
        for (ImageLayers image : pod.images()) {
            best = Math.max(best, of(s.registryLink(image.registry())));
        }
        if (holdersOfAny.isEmpty()) {
            return best;
        }
        for (Map.Entry<String, LinkEstimate> peer : s.peers().entrySet()) {
            double t = of(peer.getValue());
            if (t <= best) {
                return best; // the rest of the ranking is no faster
            }
            if (holdersOfAny.contains(peer.getKey())) {
                return t;
            }
        }
        return best;
    }

    private static double of(LinkEstimate link) {
        return link == null ? 0 : link.referenceThroughput();
    }
}
