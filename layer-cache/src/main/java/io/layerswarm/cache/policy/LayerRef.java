package io.layerswarm.cache.policy;

import java.util.Objects;

/**
 * One layer as a cache policy sees it: an opaque key (the digest string) and its weight in bytes.
 *
 * @param key the layer key, normally {@code sha256:<hex>}
 * @param size the layer size in bytes, never negative
 */
public record LayerRef(String key, long size) {
    /** Validates the components. */
    public LayerRef {
        Objects.requireNonNull(key, "key");
        if (size < 0) {
            throw new IllegalArgumentException("negative layer size " + size + " for " + key);
        }
    }
}
