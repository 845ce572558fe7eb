package io.layerswarm.cache.sim;

import io.layerswarm.cache.policy.CachePolicy;
import io.layerswarm.cache.policy.ImageRequest;
import io.layerswarm.cache.policy.LayerRef;
import io.layerswarm.cache.policy.Policies;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replays a deployment trace over a cluster of nodes, each with its own policy instance of the
 * same capacity. For every request it counts, before the policy acts, which layers the node holds
 * (local hit), which some node holds (cluster hit, fetched from a peer) and which none holds
 * (fetched from the registry). It also keeps the swarm's replica counts that cluster-aware
 * policies read.
 */
public final class CacheSimulator {
    private final List<TraceEvent> trace;
    private final ImageCatalog images;
    private final int nodes;

    /**
     * @param trace events in time order
     * @param images the image to layers relation
     * @param nodes cluster size; the trace may not name more distinct nodes
     */
    public CacheSimulator(List<TraceEvent> trace, ImageCatalog images, int nodes) {
        if (nodes < 1) {
            throw new IllegalArgumentException("--nodes must be at least 1, got " + nodes);
        }
        this.trace = trace;
        this.images = images;
        this.nodes = nodes;
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (TraceEvent e : trace) {
            ids.putIfAbsent(e.node(), ids.size());
            if (images.get(e.image()) == null) {
                throw new IllegalArgumentException("trace requests image '" + e.image()
                        + "' (node " + e.node() + ", ts " + e.ts() + ") which the images file does not list");
            }
        }
        if (ids.size() > nodes) {
            throw new IllegalArgumentException("trace names " + ids.size() + " nodes but --nodes is " + nodes);
        }
    }

    /** Replays the trace with {@code policy} at {@code capacity} bytes per node. */
    public SimResult run(String policy, long capacity) {
        return run(policy, capacity, Policies.DEFAULT_CLUSTER_WINDOW);
    }

    /** Replays the trace with {@code policy} at {@code capacity} bytes per node and a cluster-ARC window. */
    public SimResult run(String policy, long capacity, int clusterWindow) {
        Map<String, Integer> holders = new HashMap<>();
        Map<String, Integer> slot = new HashMap<>();
        List<CachePolicy> caches = new ArrayList<>(nodes);
        for (int i = 0; i < nodes; i++) {
            CachePolicy[] self = new CachePolicy[1];
            CachePolicy p = Policies.create(policy, capacity,
                    key -> holders.getOrDefault(key, 0) - (self[0].contains(key) ? 1 : 0), clusterWindow);
            self[0] = p;
            caches.add(p);
        }
        long layerRequests = 0;
        long layerHits = 0;
        long bytes = 0;
        long localBytes = 0;
        long clusterBytes = 0;
        for (TraceEvent e : trace) {
            CachePolicy cache = caches.get(slot.computeIfAbsent(e.node(), k -> slot.size()));
            ImageRequest req = images.get(e.image());
            boolean[] before = new boolean[req.layers().size()];
            for (int i = 0; i < before.length; i++) {
                LayerRef l = req.layers().get(i);
                layerRequests++;
                bytes += l.size();
                before[i] = cache.contains(l.key());
                if (before[i]) {
                    layerHits++;
                    localBytes += l.size();
                    clusterBytes += l.size();
                } else if (holders.getOrDefault(l.key(), 0) > 0) {
                    clusterBytes += l.size();
                }
            }
            List<String> evicted = cache.request(req);
            for (int i = 0; i < before.length; i++) {
                String key = req.layers().get(i).key();
                boolean after = cache.contains(key);
                if (after != before[i]) {
                    holders.merge(key, after ? 1 : -1, Integer::sum);
                }
            }
            for (String key : evicted) {
                if (!inRequest(req, key)) {
                    holders.merge(key, -1, Integer::sum);
                }
            }
        }
        return new SimResult(policy, capacity, trace.size(),
                ratio(layerHits, layerRequests), ratio(localBytes, bytes), ratio(clusterBytes, bytes),
                bytes - clusterBytes, bytes);
    }

    private static boolean inRequest(ImageRequest req, String key) {
        for (LayerRef l : req.layers()) {
            if (l.key().equals(key)) {
                return true;
            }
        }
        return false;
    }

    private static double ratio(long a, long b) {
        return b == 0 ? 0 : (double) a / b;
    }
}
