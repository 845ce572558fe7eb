package io.layerswarm.k8s.view;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One scheduling call's frozen copy of a {@link ClusterView}: the live nodes are read once, and who holds
 * a layer is worked out once per layer, however often the scoring terms ask. Without it the terms re-read
 * the view (a copy of every node) per layer and per candidate, which grows with nodes x nodes x layers.
 * Not thread-safe: one call, one thread.
 */
public final class ClusterSnapshot implements ClusterView {
    private final Map<String, NodeStatus> byName = new HashMap<>();
    private final List<NodeStatus> nodes;
    private final Map<String, List<NodeStatus>> holding = new HashMap<>();

    private ClusterSnapshot(Collection<NodeStatus> nodes) {
        this.nodes = List.copyOf(nodes);
        for (NodeStatus s : this.nodes) {
            byName.put(s.nodeName(), s);
        }
    }

    /** Freezes {@code view}'s live nodes now. */
    public static ClusterSnapshot of(ClusterView view) {
        return view instanceof ClusterSnapshot s ? s : new ClusterSnapshot(view.nodes());
    }

    @Override
    public Optional<NodeStatus> node(String nodeName) {
        return Optional.ofNullable(byName.get(nodeName));
    }

    @Override
    public Collection<NodeStatus> nodes() {
        return nodes;
    }

    @Override
    public List<NodeStatus> holding(String digest) {
        return holding.computeIfAbsent(digest, d -> List.copyOf(ClusterView.super.holding(d)));
    }
}
