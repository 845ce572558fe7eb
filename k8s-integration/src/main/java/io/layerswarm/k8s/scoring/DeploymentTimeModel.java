package io.layerswarm.k8s.scoring;

import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.NodeStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Predicts how long a node takes to have every layer of a pod. Each missing layer is assigned to one
 * source (a peer holding it, or the registry); sources transfer in parallel and each serves its layers
 * one after the other at its measured rate, so the prediction is the latest source's finish time
 * ({@code rtt + bytes / bandwidth}). Layers are assigned largest first to the source whose finish time
 * grows least, which spreads a big pull over several peers instead of queueing it on the fastest one.
 */
public final class DeploymentTimeModel {
    private final LinkEstimate defaultRegistry;
    private final LinkEstimate defaultPeer;

    /**
     * @param defaultRegistry assumed registry link when a node measured none
     * @param defaultPeer assumed peer link when a node measured none to a holder
     */
    public DeploymentTimeModel(LinkEstimate defaultRegistry, LinkEstimate defaultPeer) {
        this.defaultRegistry = defaultRegistry;
        this.defaultPeer = defaultPeer;
    }

    /** Defaults for an edge site: 20 Mbit/s and 50 ms to the registry, 100 Mbit/s and 2 ms to peers. */
    public static DeploymentTimeModel edgeDefaults() {
        return new DeploymentTimeModel(LinkEstimate.mbps(20, 50), LinkEstimate.mbps(100, 2));
    }

    /**
     * One layer's chosen source.
     *
     * @param layer the layer
     * @param kind where it comes from
     * @param source the peer node name, the registry host, or the node itself
     */
    public record Assignment(LayerInfo layer, SourceKind kind, String source) {
    }

    /**
     * A prediction.
     *
     * @param seconds predicted time until every layer is local
     * @param assignments one per distinct layer
     */
    public record Prediction(double seconds, List<Assignment> assignments) {

        /** Bytes assigned to the given kind. */
        public long bytes(SourceKind kind) {
            long b = 0;
            for (Assignment a : assignments) {
                if (a.kind() == kind) {
                    b += a.layer().size();
                }
            }
            return b;
        }
    }

    /** Predicts the pod's deployment on {@code node}. */
    public Prediction predict(PodLayers pod, NodeStatus node, ClusterView view) {
        List<LayerInfo> layers = new ArrayList<>(pod.distinctLayers());
        layers.sort(Comparator.comparingLong(LayerInfo::size).reversed());
        Map<String, long[]> queued = new HashMap<>(); // source key -> bytes so far
        Map<String, LinkEstimate> links = new HashMap<>();
        List<Assignment> out = new ArrayList<>(layers.size());
        double finish = 0;
        for (LayerInfo l : layers) {
            if (node.holds(l.digest())) {
                out.add(new Assignment(l, SourceKind.LOCAL, node.nodeName()));
                continue;
            }
            String registry = pod.registryOf(l.digest());
            LinkEstimate regLink = node.registryLink(registry);
            String bestKey = "registry:" + registry;
            LinkEstimate bestLink = regLink != null ? regLink : defaultRegistry;
            double best = finishAfter(queued, bestKey, bestLink, l.size());
            for (NodeStatus peer : view.holding(l.digest())) {
                if (peer.nodeName().equals(node.nodeName())) {
                    continue;
                }
                LinkEstimate link = node.peers().getOrDefault(peer.nodeName(), defaultPeer);
                String key = "peer:" + peer.nodeName();
                double t = finishAfter(queued, key, link, l.size());
                if (t < best) {
                    best = t;
                    bestKey = key;
                    bestLink = link;
                }
            }
            queued.computeIfAbsent(bestKey, k -> new long[1])[0] += l.size();
            links.put(bestKey, bestLink);
            finish = Math.max(finish, best);
            boolean peer = bestKey.startsWith("peer:");
            out.add(new Assignment(l, peer ? SourceKind.PEER : SourceKind.REGISTRY,
                    bestKey.substring(bestKey.indexOf(':') + 1)));
        }
        return new Prediction(finish, out);
    }

    private static double finishAfter(Map<String, long[]> queued, String key, LinkEstimate link, long size) {
        long[] q = queued.get(key);
        return link.seconds((q == null ? 0 : q[0]) + size);
    }
}
