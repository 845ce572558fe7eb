package io.layerswarm.k8s.view;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The scheduler's current picture of the cluster's layer caches and links. Implementations answer from
 * memory: scheduling code calls this on every extender request and must never wait on the network.
 */
public interface ClusterView {

    /** The node's last known status, if it is known and not expired. */
    Optional<NodeStatus> node(String nodeName);

    /** Every known, live node. */
    Collection<NodeStatus> nodes();

    /** The live nodes that hold the layer. */
    default List<NodeStatus> holding(String digest) {
        List<NodeStatus> out = new ArrayList<>();
        for (NodeStatus s : nodes()) {
            if (s.holds(digest)) {
                out.add(s);
            }
        }
        return out;
    }

    /**
     * A number that changes whenever {@link #node} or {@link #nodes} may answer differently, except when
     * records merely expire with time; {@code -1} when the view does not track changes. Lets a scheduler
     * keep one {@link ClusterSnapshot} (and the layer holders it worked out) across calls while nothing
     * changed ({@link ClusterSnapshot#reuse}).
     */
    default long version() {
        return -1;
    }

    /** How many live nodes hold the layer. */
    default int holders(String digest) {
        return holding(digest).size();
    }
}
