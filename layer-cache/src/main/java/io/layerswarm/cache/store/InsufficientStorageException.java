package io.layerswarm.cache.store;

import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A blob does not fit on the content store's file system, even after the store asked its
 * {@link SpaceReclaimer} (the layer cache) to evict what it could. Nothing of the blob is kept.
 */
public final class InsufficientStorageException extends IOException {
    private final transient Path root;
    private final transient Digest digest;
    private final long needed;
    private final long available;

    /**
     * @param root the store's root directory
     * @param digest the blob that did not fit
     * @param needed bytes the blob needs (its size, or what was being written when the disk filled)
     * @param available bytes free for new blobs (usable space less reservations and the margin)
     * @param detail how it was found out (a reclaim attempt, a failed write), for the message
     * @param cause the file system error, or {@code null}
     */
    public InsufficientStorageException(Path root, Digest digest, long needed, long available, String detail,
                                        Throwable cause) {
        super("not enough space in store " + root + " for blob " + digest + " (" + needed + " bytes): "
                + Math.max(0, available) + " bytes available" + (detail.isEmpty() ? "" : ", " + detail), cause);
        this.root = root;
        this.digest = digest;
        this.needed = needed;
        this.available = available;
    }

    /** The store's root directory. */
    public Path root() {
        return root;
    }

    /** The blob that did not fit. */
    public Digest digest() {
        return digest;
    }

    /** Bytes the blob needs. */
    public long needed() {
        return needed;
    }

    /** Bytes that were available for it. */
    public long available() {
        return available;
    }
}
