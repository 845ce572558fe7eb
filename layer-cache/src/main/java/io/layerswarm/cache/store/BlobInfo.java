package io.layerswarm.cache.store;

import io.layerswarm.oci.Digest;
import java.util.Objects;

/**
 * A committed blob of a {@link ContentStore}.
 *
 * @param digest its digest (verified when it was committed)
 * @param size its size in bytes
 */
public record BlobInfo(Digest digest, long size) {
    /** Validates. */
    public BlobInfo {
        Objects.requireNonNull(digest, "digest");
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative: " + size);
        }
    }
}
