package io.layerswarm.k8s.view;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** A {@link ClusterView} held in memory and updated by whoever feeds it (tests, the simulator, a watcher). */
public final class MutableClusterView implements ClusterView {
    private final ConcurrentMap<String, NodeStatus> nodes = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong version = new java.util.concurrent.atomic.AtomicLong();

    /** Sets a node's status, replacing what was known. */
    public void put(NodeStatus status) {
        nodes.put(status.nodeName(), status);
        version.incrementAndGet(); // after the change: a snapshot tagged with the old number is never newer than it
    }

    /** Forgets a node. */
    public void remove(String nodeName) {
        nodes.remove(nodeName);
        version.incrementAndGet();
    }

    @Override
    public long version() {
        return version.get();
    }

    @Override
    public Optional<NodeStatus> node(String nodeName) {
        return Optional.ofNullable(nodes.get(nodeName));
    }

    @Override
    public Collection<NodeStatus> nodes() {
        return List.copyOf(nodes.values());
    }
}
