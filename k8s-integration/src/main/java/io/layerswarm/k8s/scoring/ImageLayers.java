package io.layerswarm.k8s.scoring;

import java.util.List;
import java.util.Objects;

/**
 * An image resolved for one platform.
 *
 * @param image the reference as the pod names it
 * @param registry the registry host[:port] it comes from
 * @param manifestDigest the platform manifest's digest
 * @param layers its layers in manifest order
 */
public record ImageLayers(String image, String registry, String manifestDigest, List<LayerInfo> layers) {

    /** Validates and copies. */
    public ImageLayers {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(registry, "registry");
        layers = List.copyOf(layers);
    }

    /** Sum of the layer sizes. */
    public long size() {
        long s = 0;
        for (LayerInfo l : layers) {
            s += l.size();
        }
        return s;
    }
}
