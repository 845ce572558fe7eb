package io.layerswarm.k8s.view;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the scheduler knows about one node's layer cache and links.
 *
 * @param nodeName the Kubernetes node name
 * @param layers layer digest ({@code sha256:...}) to size in bytes, for every layer the node holds
 * @param capacityBytes cache capacity, or {@link Long#MAX_VALUE} when unbounded
 * @param freeBytes bytes the cache can take without evicting
 * @param evictableBytes bytes of unpinned layers the cache could evict
 * @param registries registry host[:port] to measured link; key {@code *} is the fallback for any registry
 * @param peers node name of a peer to measured link from this node to it; iterates best link first
 *     ({@link LinkEstimate#referenceThroughput()}, ties by name), so a walk can stop at the first peer it wants
 */
public record NodeStatus(String nodeName, Map<String, Long> layers, long capacityBytes, long freeBytes,
                         long evictableBytes, Map<String, LinkEstimate> registries, Map<String, LinkEstimate> peers) {

    /** Validates and copies. */
    public NodeStatus {
        Objects.requireNonNull(nodeName, "nodeName");
        if (nodeName.isEmpty()) {
            throw new IllegalArgumentException("empty node name");
        }
        if (capacityBytes < 0 || freeBytes < 0 || evictableBytes < 0) {
            throw new IllegalArgumentException("negative cache figures for node " + nodeName);
        }
        layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
        registries = Map.copyOf(registries);
        peers = PeerRanking.bestFirst(peers);
    }

    /** Whether the node holds the layer. */
    public boolean holds(String digest) {
        return layers.containsKey(digest);
    }

    /** Bytes the cache can make room for: free plus unpinned evictable, without overflow. */
    public long roomBytes() {
        long sum = freeBytes + evictableBytes;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    /** The measured link to {@code registry}, else the {@code *} fallback, else {@code null}. */
    public LinkEstimate registryLink(String registry) {
        LinkEstimate l = registries.get(registry);
        return l != null ? l : registries.get("*");
    }
}
