package io.layerswarm.k8s.extender;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;

/**
 * {@code HostPriority}: one node's score from prioritize, 0..{@link #MAX_EXTENDER_PRIORITY}.
 *
 * @param host node name
 * @param score 0..10
 */
@JsonFormat(with = JsonFormat.Feature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
public record HostPriority(@JsonProperty("Host") String host, @JsonProperty("Score") long score) {

    /** {@code MaxExtenderPriority} of the upstream package. */
    public static final long MAX_EXTENDER_PRIORITY = 10;

    /** Validates the score range. */
    public HostPriority {
        Objects.requireNonNull(host, "Host");
        if (score < 0 || score > MAX_EXTENDER_PRIORITY) {
            throw new IllegalArgumentException("score " + score + " for " + host + " outside 0.." + MAX_EXTENDER_PRIORITY);
        }
    }
}
