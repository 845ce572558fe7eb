package io.layerswarm.k8s.scoring;

import java.util.Objects;

/**
 * One layer of an image.
 *
 * @param digest {@code sha256:...}
 * @param size compressed size in bytes, as the manifest states
 */
public record LayerInfo(String digest, long size) {

    /** Validates. */
    public LayerInfo {
        Objects.requireNonNull(digest, "digest");
        if (size < 0) {
            throw new IllegalArgumentException("negative layer size for " + digest);
        }
    }
}
