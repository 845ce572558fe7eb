package io.layerswarm.cache.policy;

import java.util.ArrayList;
import java.util.List;

/** Small builders for hand-written request sequences. */
final class PolicyTestSupport {
    private PolicyTestSupport() {
    }

    /** A one-layer request for key {@code k} of {@code size} bytes (image named after the layer). */
    static ImageRequest layer(String k, long size) {
        return ImageRequest.ofLayer(k, size);
    }

    /** An image request; layers given as alternating key, size. */
    static ImageRequest image(String name, Object... keyAndSize) {
        List<LayerRef> layers = new ArrayList<>();
        for (int i = 0; i < keyAndSize.length; i += 2) {
            layers.add(new LayerRef((String) keyAndSize[i], ((Number) keyAndSize[i + 1]).longValue()));
        }
        return new ImageRequest(name, layers);
    }
}
