package io.layerswarm.node;

import io.layerswarm.libp2p.crypto.PeerId;
import java.util.Map;

/**
 * A snapshot of every link this node has measured (see {@link Node#links()}).
 *
 * @param peers per peer, the link from it to this node
 * @param upstreams per upstream namespace (host[:port], as {@link Node#namespaces()}), the link from
 *     that registry to this node; an upstream nothing was fetched from or probed yet is absent
 */
public record LinkMeasurements(Map<PeerId, LinkMeasurement> peers, Map<String, LinkMeasurement> upstreams) {

    /** Copies. */
    public LinkMeasurements {
        peers = Map.copyOf(peers);
        upstreams = Map.copyOf(upstreams);
    }
}
