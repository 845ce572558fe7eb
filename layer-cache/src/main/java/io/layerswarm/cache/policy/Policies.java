package io.layerswarm.cache.policy;

import java.util.List;

/** Creates policies by their command-line names. */
public final class Policies {
    /** Every policy name, in the order the simulator reports them. */
    public static final List<String> NAMES = List.of("arc", "lru", "tinylfu", "image-lru", "k8s-gc", "cluster-arc");

    /** Candidates compared by cluster-aware ARC when picking a victim. */
    public static final int DEFAULT_CLUSTER_WINDOW = 8;

    private Policies() {
    }

    /**
     * A new, empty policy.
     *
     * @param name one of {@link #NAMES}
     * @param capacity bytes
     * @param replicas replica counts for {@code cluster-arc} (ignored by the others)
     * @throws IllegalArgumentException for an unknown name
     */
    public static CachePolicy create(String name, long capacity, ReplicaView replicas) {
        return create(name, capacity, replicas, DEFAULT_CLUSTER_WINDOW);
    }

    /**
     * A new, empty policy, with the number of eviction candidates cluster-aware ARC compares
     * (larger keeps more distinct layers in the cluster at some cost in local hits).
     */
    public static CachePolicy create(String name, long capacity, ReplicaView replicas, int clusterWindow) {
        return switch (name) {
            case "arc" -> ArcPolicy.plain(capacity);
            case "lru" -> new LruPolicy(capacity);
            case "tinylfu" -> new TinyLfuPolicy(capacity);
            case "image-lru" -> ImageGranularityPolicy.imageLru(capacity);
            case "k8s-gc" -> ImageGranularityPolicy.kubeletGc(capacity);
            case "cluster-arc" -> ArcPolicy.clusterAware(capacity, replicas, clusterWindow);
            default -> throw new IllegalArgumentException("unknown cache policy '" + name
                    + "' (known: " + String.join(", ", NAMES) + ")");
        };
    }
}
