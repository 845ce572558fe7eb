package io.layerswarm.k8s.scoring;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pod's resolved images and the union of their layers.
 *
 * @param images one entry per resolved container image (init containers included), repeats kept
 * @param containers the number of containers (init and regular), for the in-tree clamp
 * @param unresolved images that could not be resolved, with the reason
 */
public record PodLayers(List<ImageLayers> images, int containers, Map<String, String> unresolved) {

    /** Copies. */
    public PodLayers {
        images = List.copyOf(images);
        unresolved = Map.copyOf(unresolved);
        if (containers < images.size()) {
            throw new IllegalArgumentException("containers " + containers + " < images " + images.size());
        }
    }

    /** A pod of resolved images only, one container each. */
    public static PodLayers of(List<ImageLayers> images) {
        return new PodLayers(images, images.size(), Map.of());
    }

    /** Distinct layers over all images, first occurrence order. */
    public List<LayerInfo> distinctLayers() {
        Map<String, LayerInfo> seen = new LinkedHashMap<>();
        for (ImageLayers i : images) {
            for (LayerInfo l : i.layers()) {
                seen.putIfAbsent(l.digest(), l);
            }
        }
        return new ArrayList<>(seen.values());
    }

    /** Total bytes of the distinct layers. */
    public long totalBytes() {
        long s = 0;
        for (LayerInfo l : distinctLayers()) {
            s += l.size();
        }
        return s;
    }

    /** The registry a layer is fetched from: that of the first image that lists it. */
    public String registryOf(String digest) {
        for (ImageLayers i : images) {
            for (LayerInfo l : i.layers()) {
                if (l.digest().equals(digest)) {
                    return i.registry();
                }
            }
        }
        throw new IllegalArgumentException("layer " + digest + " is not in this pod");
    }
}
