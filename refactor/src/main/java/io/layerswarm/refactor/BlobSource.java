package io.layerswarm.refactor;

import io.layerswarm.oci.Descriptor;

import java.io.IOException;
import java.io.InputStream;

/** Streams layer blobs (from a registry, a peer or a local layout). */
@FunctionalInterface
public interface BlobSource {
    /**
     * Opens the blob a descriptor names. The caller verifies the digest while reading.
     *
     * @throws IOException if the blob cannot be fetched
     */
    InputStream open(Descriptor blob) throws IOException;
}
