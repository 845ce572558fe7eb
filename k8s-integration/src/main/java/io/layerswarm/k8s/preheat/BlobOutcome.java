package io.layerswarm.k8s.preheat;

import io.layerswarm.oci.Digest;
import java.util.Objects;

/**
 * How one blob of a preheated image got to the node.
 *
 * @param digest the blob
 * @param peerBytes verified bytes that came from peers
 * @param registryBytes verified bytes that came from the upstream registry
 * @param local whether the node already held it (nothing was fetched)
 * @param error why it could not be fetched, or {@code null}
 */
public record BlobOutcome(String digest, long peerBytes, long registryBytes, boolean local, String error) {

    /** Validates. */
    public BlobOutcome {
        Digest.parse(Objects.requireNonNull(digest, "digest"));
        if (peerBytes < 0 || registryBytes < 0) {
            throw new IllegalArgumentException("negative byte count for " + digest);
        }
    }
}
