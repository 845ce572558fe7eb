package io.layerswarm.k8s.orchestrator;

import io.layerswarm.k8s.scoring.SourceKind;

/**
 * One step of a plan: {@code target} fetches {@code layer} from {@code source} in {@code wave}.
 *
 * @param target node that receives the layer
 * @param layer layer digest
 * @param size layer bytes
 * @param kind {@link SourceKind#PEER} or {@link SourceKind#REGISTRY}
 * @param source peer node name or registry host
 * @param wave 0 for sources that hold the layer now; n+1 for a copy made in wave n
 * @param predictedSeconds predicted time of this transfer alone over its link
 */
public record Transfer(String target, String layer, long size, SourceKind kind, String source, int wave,
                       double predictedSeconds) {
}
