package io.layerswarm.k8s.extender;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;

/**
 * {@code HostPriorityList}: the prioritize answer, on the wire a bare JSON array of {@link HostPriority}.
 *
 * @param priorities one entry per scored node
 */
public record HostPriorityList(@JsonValue List<HostPriority> priorities) {

    /** Copies the list. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public HostPriorityList {
        priorities = priorities == null ? List.of() : List.copyOf(priorities);
    }
}
