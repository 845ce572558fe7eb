package io.layerswarm.cache.store;

import io.layerswarm.oci.Digest;
import java.io.IOException;

/**
 * Content did not match the digest (or size) it was announced with. Nothing was committed.
 */
public final class DigestMismatchException extends IOException {
    private final transient Digest expected;
    private final transient Digest actual;

    /**
     * @param expected the announced digest
     * @param actual the digest of the bytes actually received, or {@code null} if hashing stopped
     *               early (e.g. too many bytes)
     * @param message what went wrong
     */
    public DigestMismatchException(Digest expected, Digest actual, String message) {
        super(message);
        this.expected = expected;
        this.actual = actual;
    }

    /** The announced digest. */
    public Digest expected() {
        return expected;
    }

    /** The digest of the bytes received, or {@code null} if unknown. */
    public Digest actual() {
        return actual;
    }
}
