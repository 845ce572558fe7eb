package io.layerswarm.k8s.extender;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code ExtenderBindingArgs}: the bind call's body.
 *
 * @param podName pod name
 * @param podNamespace pod namespace
 * @param podUID pod UID ({@code types.UID}, a string)
 * @param node the node chosen by the scheduler
 */
@JsonFormat(with = JsonFormat.Feature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
public record ExtenderBindingArgs(@JsonProperty("PodName") String podName,
                                  @JsonProperty("PodNamespace") String podNamespace,
                                  @JsonProperty("PodUID") String podUID,
                                  @JsonProperty("Node") String node) {

    /**
     * Checks the fields a binding needs.
     *
     * @throws ExtenderRequestException naming the first missing field
     */
    public ExtenderBindingArgs validated() {
        if (podName == null || podName.isEmpty()) {
            throw new ExtenderRequestException("ExtenderBindingArgs has no PodName");
        }
        if (podNamespace == null || podNamespace.isEmpty()) {
            throw new ExtenderRequestException("ExtenderBindingArgs has no PodNamespace");
        }
        if (node == null || node.isEmpty()) {
            throw new ExtenderRequestException("ExtenderBindingArgs has no Node");
        }
        return this;
    }
}
