package io.layerswarm.k8s.sim;

/**
 * One placement simulation run.
 *
 * @param scoring the extender policy ({@code trace} = the trace's own placement)
 * @param capacityBytes cache capacity per node
 * @param requests deployments placed
 * @param meanPredictedSeconds mean predicted deployment time on the chosen node
 * @param layerHitRatio share of requested layers the chosen node already held
 * @param byteHitRatio share of requested bytes the chosen node already held
 * @param peerBytes bytes predicted to come from peers
 * @param registryBytes bytes predicted to come from the registry
 * @param maxPodsOnANode highest number of pods one node ran at once
 */
public record PlacementResult(String scoring, long capacityBytes, long requests, double meanPredictedSeconds,
                              double layerHitRatio, double byteHitRatio, long peerBytes, long registryBytes,
                              int maxPodsOnANode) {
}
