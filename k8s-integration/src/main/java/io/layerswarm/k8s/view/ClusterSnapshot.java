package io.layerswarm.k8s.view;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A frozen copy of a {@link ClusterView}: the live nodes are read once, and who holds a layer is worked
 * out once per layer, however often the scoring terms ask. Without it the terms re-read the view (a copy
 * of every node) per layer and per candidate, which grows with nodes x nodes x layers. A snapshot taken
 * by {@link #reuse} also serves later calls while the view's {@link ClusterView#version()} is unchanged,
 * so the holders of an image's layers are worked out once for all its pods, not once per call. Safe for
 * concurrent calls.
 */
public final class ClusterSnapshot implements ClusterView {
    /**
     * Longest a snapshot serves calls: bounds how long a node whose record expired (which changes no
     * version) can still count, against records published every 10 s.
     */
    public static final long REUSE_MAX_NANOS = 1_000_000_000L;

    private final Map<String, NodeStatus> byName = new HashMap<>();
    private final List<NodeStatus> nodes;
    private final Map<String, List<NodeStatus>> holding = new java.util.concurrent.ConcurrentHashMap<>();
    private final long version;
    private final long takenNanos;

    private ClusterSnapshot(Collection<NodeStatus> nodes, long version) {
        this.version = version;
        this.takenNanos = System.nanoTime();
        this.nodes = List.copyOf(nodes);
        for (NodeStatus s : this.nodes) {
            byName.put(s.nodeName(), s);
        }
    }

    /** Freezes {@code view}'s live nodes now. */
    public static ClusterSnapshot of(ClusterView view) {
        return view instanceof ClusterSnapshot s ? s : new ClusterSnapshot(view.nodes(), -1);
    }

    /**
     * {@code last} if it was taken from {@code view} at the version the view has now, less than
     * {@link #REUSE_MAX_NANOS} ago; else a new snapshot of {@code view}. A view that tracks no version
     * always gets a new one.
     *
     * @param last the snapshot the caller kept from its previous call, or {@code null}
     */
    public static ClusterSnapshot reuse(ClusterSnapshot last, ClusterView view) {
        if (view instanceof ClusterSnapshot s) {
            return s;
        }
        long v = view.version(); // before reading the nodes: a change in between makes the next call take anew
        if (v >= 0 && last != null && last.version == v && System.nanoTime() - last.takenNanos < REUSE_MAX_NANOS) {
            return last;
        }
        return new ClusterSnapshot(view.nodes(), v);
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
    public long version() {
        return version;
    }

    @Override
    public List<NodeStatus> holding(String digest) {
        return holding.computeIfAbsent(digest, d -> List.copyOf(ClusterView.super.holding(d)));
    }
}
