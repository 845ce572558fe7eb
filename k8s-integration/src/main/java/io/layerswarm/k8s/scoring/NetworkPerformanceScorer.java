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
 * reference transfer of 16 MiB ({@code 16 MiB / (rtt + 16 MiB / bandwidth)}, which charges latency the
 * way a layer fetch feels it) over its best measured path: to the pod's registry or to any peer that
 * holds one of the pod's layers. The best candidate gets 10, others proportionally less.
 */
public final class NetworkPerformanceScorer implements NodeScorer {
    static final long REFERENCE_BYTES = 16L << 20;

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
        for (String holder : holdersOfAny) {
            LinkEstimate link = s.peers().get(holder);
            if (link != null) {
                best = Math.max(best, of(link));
            }
        }
        return best;
    }

    private static double of(LinkEstimate link) {
        return link == null ? 0 : REFERENCE_BYTES / link.seconds(REFERENCE_BYTES);
    }
}
