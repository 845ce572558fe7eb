package io.layerswarm.cache.sim;

/**
 * Outcome of replaying a trace with one policy and one per-node capacity.
 *
 * @param policy the policy name
 * @param capacityBytes the capacity of every node's cache
 * @param requests image requests replayed
 * @param hitRatio requested layers found on the requesting node / requested layers
 * @param byteHitRatio requested bytes found on the requesting node / requested bytes
 * @param clusterByteHitRatio requested bytes found on any node of the cluster / requested bytes
 * @param registryBytes requested bytes no node held, fetched from the registry
 * @param requestedBytes all requested bytes
 */
public record SimResult(String policy, long capacityBytes, long requests, double hitRatio,
                        double byteHitRatio, double clusterByteHitRatio, long registryBytes,
                        long requestedBytes) {
}
