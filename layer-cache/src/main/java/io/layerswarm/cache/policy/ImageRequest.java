package io.layerswarm.cache.policy;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A request to make an image's layers resident: a deployment (pull) of {@code image}, or, when the
 * mechanism only knows a single blob, a one-layer request named after that blob.
 *
 * @param image the image name ({@code name:tag}); image-granularity policies use it as their unit
 * @param layers the image's layers, bottom first, without duplicate keys
 */
public record ImageRequest(String image, List<LayerRef> layers) {

    /** Validates and copies; a key listed twice (OCI images may repeat a layer) is kept once. */
    public ImageRequest {
        Objects.requireNonNull(image, "image");
        Set<String> seen = new LinkedHashSet<>();
        List<LayerRef> unique = new ArrayList<>(layers.size());
        for (LayerRef l : layers) {
            if (seen.add(l.key())) {
                unique.add(l);
            }
        }
        layers = List.copyOf(unique);
    }

    /** A request for one blob outside any image, named {@code blob:<key>}. */
    public static ImageRequest ofLayer(String key, long size) {
        return new ImageRequest("blob:" + key, List.of(new LayerRef(key, size)));
    }

    /** Total bytes of the request's (distinct) layers. */
    public long totalBytes() {
        long sum = 0;
        for (LayerRef l : layers) {
            sum += l.size();
        }
        return sum;
    }
}
