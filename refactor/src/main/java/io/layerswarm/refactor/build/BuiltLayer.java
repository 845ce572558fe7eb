package io.layerswarm.refactor.build;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.MediaTypes;

import java.nio.file.Path;

/**
 * A layer blob written to disk.
 *
 * @param digest digest of the gzip blob
 * @param diffId sha256 of the uncompressed tar
 * @param size blob size in bytes
 * @param file where the blob is
 */
public record BuiltLayer(Digest digest, Digest diffId, long size, Path file) {
    /** Its OCI descriptor. */
    public Descriptor descriptor() {
        return Descriptor.of(MediaTypes.OCI_LAYER_GZIP, digest, size);
    }
}
