package io.layerswarm.refactor.index;

import io.layerswarm.oci.Digest;

import java.util.List;
import java.util.Objects;

/**
 * The entries of one layer, in tar order, without any content.
 *
 * @param digest digest of the (compressed) blob
 * @param diffId sha256 of the uncompressed tar, or {@code null} when not computed (layers read for analysis)
 * @param blobSize size of the blob in bytes
 * @param entries entries in tar order, whiteouts included
 */
public record ScannedLayer(Digest digest, Digest diffId, long blobSize, List<FileEntry> entries) {
    /** Validates and copies. */
    public ScannedLayer {
        Objects.requireNonNull(digest, "digest");
        entries = List.copyOf(entries);
    }

    /** Sum of the content bytes of regular files in this layer. */
    public long contentBytes() {
        long n = 0;
        for (FileEntry e : entries) {
            if (e.hasContent()) {
                n += e.size();
            }
        }
        return n;
    }
}
