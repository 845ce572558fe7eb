package io.layerswarm.mirror;

import io.layerswarm.oci.Digest;
import java.util.Objects;

/**
 * A manifest as served: its exact bytes, media type and digest.
 *
 * @param bytes the exact manifest bytes (their digest is {@code digest})
 * @param mediaType the manifest's media type
 * @param digest digest of {@code bytes}
 */
public record ManifestContent(byte[] bytes, String mediaType, Digest digest) {

    /** Validates that the digest really is the digest of the bytes. */
    public ManifestContent {
        Objects.requireNonNull(bytes, "bytes");
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        if (!digest.matches(digest.newMessageDigest().digest(bytes))) {
            throw new IllegalArgumentException("manifest bytes do not match digest " + digest);
        }
    }

    /** Wraps bytes, computing their sha256 digest. */
    public static ManifestContent of(byte[] bytes, String mediaType) {
        return new ManifestContent(bytes, mediaType, Digest.sha256(bytes));
    }
}
