package io.layerswarm.cache.sim;

import java.util.Objects;

/**
 * One deployment in a trace: at {@code ts} milliseconds, {@code node} pulls {@code image}.
 *
 * @param ts time in milliseconds
 * @param node the node id
 * @param image the image name ({@code name:tag})
 */
public record TraceEvent(long ts, String node, String image) {
    /** Validates the components. */
    public TraceEvent {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(image, "image");
    }
}
