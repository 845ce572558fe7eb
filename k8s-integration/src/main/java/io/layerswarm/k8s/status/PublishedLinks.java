package io.layerswarm.k8s.status;

import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.node.LinkMeasurement;
import io.layerswarm.node.LinkMeasurements;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The links a node publishes in its status record, from what it measured ({@link LinkMeasurements}).
 * Only links with a measured throughput are published (an RTT alone predicts no transfer time, and an
 * invented rate would mislead the scheduler). A link whose RTT was never measured is published with RTT
 * 0: its throughput samples already include the request's round trip. Peers are keyed by peer id
 * (base58): a node does not know its peers' node names, the scheduler's view does
 * ({@link SwarmClusterView} resolves them), and a peer id can never be mistaken for a node name (node
 * names are lower case, peer ids are not).
 *
 * @param registries upstream namespace (host[:port]) to link, plus {@code *}: the default (first)
 *     upstream's link, the node's uplink estimate for registries it has no entry for
 * @param peers peer id (base58) to link, at most {@link #MAX_PEERS}
 */
public record PublishedLinks(Map<String, LinkEstimate> registries, Map<String, LinkEstimate> peers) {
    /** Most peer links in one record: the peers that sent the most bytes (keeps records small in big swarms). */
    public static final int MAX_PEERS = 256;

    /** Copies. */
    public PublishedLinks {
        registries = Map.copyOf(registries);
        peers = Map.copyOf(peers);
    }

    /**
     * @param measured the node's measurements
     * @param namespaces the node's upstream namespaces, the default first ({@code Node#namespaces()})
     */
    public static PublishedLinks from(LinkMeasurements measured, List<String> namespaces) {
        Map<String, LinkEstimate> registries = new TreeMap<>();
        measured.upstreams().forEach((ns, m) -> {
            if (m.hasThroughput()) {
                registries.put(ns, estimate(m));
            }
        });
        if (!namespaces.isEmpty() && registries.containsKey(namespaces.get(0))) {
            registries.put("*", registries.get(namespaces.get(0)));
        }
        Map<String, LinkEstimate> peers = new TreeMap<>();
        measured.peers().entrySet().stream()
                .filter(e -> e.getValue().hasThroughput())
                .sorted(Comparator.comparingLong((Map.Entry<?, LinkMeasurement> e) -> e.getValue().bytesReceived()).reversed())
                .limit(MAX_PEERS)
                .forEach(e -> peers.put(e.getKey().toBase58(), estimate(e.getValue())));
        return new PublishedLinks(registries, peers);
    }

    private static LinkEstimate estimate(LinkMeasurement m) {
        return new LinkEstimate(m.bytesPerSecond(), m.hasRtt() ? m.rttMillis() : 0);
    }
}
