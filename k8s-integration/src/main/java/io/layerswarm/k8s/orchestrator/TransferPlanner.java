package io.layerswarm.k8s.orchestrator;

import io.layerswarm.k8s.scoring.LayerInfo;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.scoring.SourceKind;
import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.NodeStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Plans the preheat of an image onto one or more target nodes at once. For every missing (target,
 * layer): the source is the holder with the best measured path to the target that still has an upload
 * slot in that wave (at most {@code maxUploads} concurrent uploads per source node), or the registry
 * when no one in the cluster holds the layer yet, or when the registry path beats every peer path.
 * Replicas are planned together: a layer no peer holds is fetched from the registry once, by the target
 * with the best registry link, and the other targets copy it from there in later waves, so the uplink
 * carries each layer once. Nodes whose preheat of the same image is still running ("arriving") count
 * as holders from wave 1, so a replica bound after its siblings' plan was sent copies from them instead
 * of starting a second registry fetch. Largest layers are planned first, since they dominate the finish time.
 */
public final class TransferPlanner {
    private final int maxUploads;
    private final LinkEstimate defaultPeer;
    private final LinkEstimate defaultRegistry;

    /**
     * @param maxUploads concurrent uploads per source node per wave
     * @param defaultPeer assumed peer link when none was measured
     * @param defaultRegistry assumed registry link when none was measured
     */
    public TransferPlanner(int maxUploads, LinkEstimate defaultPeer, LinkEstimate defaultRegistry) {
        if (maxUploads < 1) {
            throw new IllegalArgumentException("maxUploads must be at least 1");
        }
        this.maxUploads = maxUploads;
        this.defaultPeer = defaultPeer;
        this.defaultRegistry = defaultRegistry;
    }

    /**
     * Plans.
     *
     * @param pod the image(s) to preheat
     * @param targets nodes that will run it
     * @param view who holds what, and the links
     * @throws IllegalArgumentException if a target is unknown to the view
     */
    public TransferPlan plan(PodLayers pod, List<String> targets, ClusterView view) {
        return plan(pod, targets, view, Set.of());
    }

    /**
     * Plans, with some nodes already on their way to holding the whole image.
     *
     * @param pod the image(s) to preheat
     * @param targets nodes that will run it
     * @param view who holds what, and the links
     * @param arriving nodes fetching every layer of {@code pod} now (an earlier plan's targets): sources
     *     from wave 1 for the layers they do not hold yet; ignored when not in the view
     * @throws IllegalArgumentException if a target is unknown to the view
     */
    public TransferPlan plan(PodLayers pod, List<String> targets, ClusterView view, Set<String> arriving) {
        Map<String, NodeStatus> status = new LinkedHashMap<>();
        for (String t : targets) {
            status.put(t, view.node(t).orElseThrow(() -> new IllegalArgumentException("target node " + t + " is not in the cluster view")));
        }
        Set<String> others = new TreeSet<>();
        for (String n : arriving) {
            if (!targets.contains(n) && view.node(n).isPresent()) {
                others.add(n);
            }
        }
        List<LayerInfo> layers = new ArrayList<>(pod.distinctLayers());
        layers.sort(Comparator.comparingLong(LayerInfo::size).reversed().thenComparing(LayerInfo::digest));
        Map<String, int[]> slots = new HashMap<>(); // source + "#" + wave -> uploads
        List<Transfer> out = new ArrayList<>();
        for (LayerInfo l : layers) {
            Map<String, Integer> holders = new LinkedHashMap<>(); // node -> first wave it can upload l
            for (NodeStatus s : view.nodes()) {
                if (s.holds(l.digest())) {
                    holders.put(s.nodeName(), 0);
                }
            }
            for (String n : others) {
                holders.putIfAbsent(n, 1);
            }
            String registry = pod.registryOf(l.digest());
            List<String> missing = new ArrayList<>();
            for (String t : targets) {
                if (!holders.containsKey(t)) {
                    missing.add(t);
                }
            }
            // the registry fetch (if any) goes to the target that gets it fastest
            missing.sort(Comparator.comparingDouble(t -> regLink(status.get(t), registry).seconds(l.size())));
            for (String t : missing) {
                Transfer best = null;
                for (Map.Entry<String, Integer> h : holders.entrySet()) {
                    if (h.getKey().equals(t)) {
                        continue;
                    }
                    int wave = h.getValue();
                    while (slots.getOrDefault(h.getKey() + "#" + wave, new int[1])[0] >= maxUploads) {
                        wave++;
                    }
                    double secs = status.get(t).peers().getOrDefault(h.getKey(), defaultPeer).seconds(l.size());
                    Transfer c = new Transfer(t, l.digest(), l.size(), SourceKind.PEER, h.getKey(), wave, secs);
                    if (best == null || better(c, best)) {
                        best = c;
                    }
                }
                double regSecs = regLink(status.get(t), registry).seconds(l.size());
                if (best == null || (regSecs < best.predictedSeconds() && best.wave() == 0)) {
                    best = new Transfer(t, l.digest(), l.size(), SourceKind.REGISTRY, registry, 0, regSecs);
                } else {
                    slots.computeIfAbsent(best.source() + "#" + best.wave(), k -> new int[1])[0]++;
                }
                out.add(best);
                holders.put(t, best.wave() + 1);
            }
        }
        out.sort(Comparator.comparingInt(Transfer::wave));
        return new TransferPlan(out, others);
    }

    /** Earlier waves first (waiting costs a whole wave), then the faster path. */
    private static boolean better(Transfer a, Transfer b) {
        if (a.wave() != b.wave()) {
            return a.wave() < b.wave();
        }
        return a.predictedSeconds() < b.predictedSeconds();
    }

    private LinkEstimate regLink(NodeStatus s, String registry) {
        LinkEstimate l = s.registryLink(registry);
        return l != null ? l : defaultRegistry;
    }
}
