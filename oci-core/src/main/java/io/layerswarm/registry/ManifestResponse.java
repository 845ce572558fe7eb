package io.layerswarm.registry;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageIndex;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.MediaTypes;
import java.util.Objects;

/**
 * A manifest or index exactly as the registry served it. The digest is of {@link #bytes()} and was
 * verified by the client.
 *
 * @param bytes the raw document
 * @param mediaType its media type (one of {@link MediaTypes#MANIFESTS_AND_INDEXES})
 * @param digest the digest of the bytes
 */
public record ManifestResponse(byte[] bytes, String mediaType, Digest digest) {

    /** Validates. */
    public ManifestResponse {
        Objects.requireNonNull(bytes, "bytes");
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
    }

    /** Whether this is an index / manifest list. */
    public boolean isIndex() {
        return MediaTypes.INDEXES.contains(mediaType);
    }

    /** Parses as an image manifest. */
    public ImageManifest manifest() {
        return ImageManifest.parse(bytes);
    }

    /** Parses as an index. */
    public ImageIndex index() {
        return ImageIndex.parse(bytes);
    }

    /** A descriptor of this document. */
    public Descriptor descriptor() {
        return Descriptor.of(mediaType, digest, bytes.length);
    }
}
