package io.layerswarm.k8s.extender;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.NodeList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ExtenderFilterResult}: the nodes that passed (as {@code Nodes} or {@code NodeNames}, matching the
 * request's mode), the nodes that failed with a reason each, those that no preemption can help, and an
 * error string that fails the whole call when non-empty.
 *
 * @param nodes passing nodes as full objects (nodeCacheCapable false), else {@code null}
 * @param nodeNames passing node names (nodeCacheCapable true), else {@code null}
 * @param failedNodes node name to reason
 * @param failedAndUnresolvableNodes node name to reason, for failures preemption cannot fix
 * @param error empty on success
 */
@JsonFormat(with = JsonFormat.Feature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
public record ExtenderFilterResult(@JsonProperty("Nodes") NodeList nodes,
                                   @JsonProperty("NodeNames") List<String> nodeNames,
                                   @JsonProperty("FailedNodes") Map<String, String> failedNodes,
                                   @JsonProperty("FailedAndUnresolvableNodes") Map<String, String> failedAndUnresolvableNodes,
                                   @JsonProperty("Error") String error) {

    /** Copies the collections (keeping order) and maps a missing error to the empty string, as Go does. */
    public ExtenderFilterResult {
        nodeNames = nodeNames == null ? null : List.copyOf(nodeNames);
        failedNodes = failedNodes == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(failedNodes));
        failedAndUnresolvableNodes = failedAndUnresolvableNodes == null ? Map.of()
                : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(failedAndUnresolvableNodes));
        error = error == null ? "" : error;
    }

    /** A result that fails the call with {@code message} (kube-scheduler treats it as an extender error). */
    public static ExtenderFilterResult failure(String message) {
        return new ExtenderFilterResult(null, null, Map.of(), Map.of(), message);
    }
}
