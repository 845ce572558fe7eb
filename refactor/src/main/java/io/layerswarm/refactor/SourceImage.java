package io.layerswarm.refactor;

import io.layerswarm.oci.Descriptor;

import java.util.List;
import java.util.Objects;

/**
 * An image to analyse or refactor, as its manifest describes it.
 *
 * @param name display name, usually {@code repo:tag}
 * @param config the raw config JSON
 * @param layers layer descriptors, bottom first
 */
public record SourceImage(String name, byte[] config, List<Descriptor> layers) {
    /** Validates and copies. */
    public SourceImage {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(config, "config");
        layers = List.copyOf(layers);
    }
}
