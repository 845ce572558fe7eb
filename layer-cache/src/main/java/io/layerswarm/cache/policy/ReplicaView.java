package io.layerswarm.cache.policy;

/**
 * How many <em>other</em> nodes of the cluster hold a layer, as the swarm last told us. Cluster-aware
 * policies use it to evict well-replicated layers first and keep the cluster's last copy.
 */
@FunctionalInterface
public interface ReplicaView {
    /** A view for a node that knows nothing about its peers (every count is zero). */
    ReplicaView NONE = key -> 0;

    /** Number of other nodes holding {@code key}; zero when unknown. */
    int replicasElsewhere(String key);
}
