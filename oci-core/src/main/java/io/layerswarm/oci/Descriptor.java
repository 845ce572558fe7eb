package io.layerswarm.oci;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An OCI content descriptor: what a manifest or index says about a blob it references.
 *
 * @param mediaType the media type of the referenced content
 * @param digest its digest
 * @param size its size in bytes
 * @param urls optional alternative locations (never followed automatically)
 * @param annotations optional annotations
 * @param platform the platform, for entries of an image index; {@code null} otherwise
 */
public record Descriptor(String mediaType, Digest digest, long size, List<String> urls,
                         Map<String, String> annotations, Platform platform) {

    /** Validates and defensively copies. */
    public Descriptor {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        if (size < 0) {
            throw new IllegalArgumentException("descriptor size must not be negative: " + size);
        }
        urls = urls == null ? List.of() : List.copyOf(urls);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    /** A descriptor with no urls, annotations or platform. */
    public static Descriptor of(String mediaType, Digest digest, long size) {
        return new Descriptor(mediaType, digest, size, List.of(), Map.of(), null);
    }

    /** This descriptor with one more annotation. */
    public Descriptor withAnnotation(String key, String value) {
        var m = new java.util.HashMap<>(annotations);
        m.put(key, value);
        return new Descriptor(mediaType, digest, size, urls, m, platform);
    }
}
