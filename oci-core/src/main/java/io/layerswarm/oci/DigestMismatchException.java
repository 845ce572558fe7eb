package io.layerswarm.oci;

import java.io.IOException;
import java.util.Optional;

/**
 * Content did not match the digest (or size) it was requested, announced or stored under: a registry
 * sent other bytes, pieces assembled into another blob, or a stored blob was corrupted.
 *
 * <p>Fetching the same content from the same source again normally gives the same wrong bytes, so
 * callers treat this as permanent rather than retrying it like a broken connection.
 */
public final class DigestMismatchException extends IOException {
    private static final long serialVersionUID = 1L;

    // Digest is not serializable; a deserialized exception keeps its message only.
    private final transient Digest expected;
    private final transient Digest actual;

    /**
     * @param expected the digest the content should have
     * @param actual the digest the content has, or {@code null} if it was not (fully) hashed, e.g.
     *               because the size was already wrong
     * @param message what was checked and what was found
     */
    public DigestMismatchException(Digest expected, Digest actual, String message) {
        super(message);
        this.expected = expected;
        this.actual = actual;
    }

    /**
     * A mismatch with the message {@code "<what>: content does not match digest <expected> (got <found>)"}.
     *
     * @param what what was verified, e.g. {@code blob app@sha256:...}
     * @param expected the digest asked for or announced
     * @param actual the digest the content has, or {@code null} if unknown
     * @param found what was found instead, e.g. the actual digest or a size mismatch
     */
    public static DigestMismatchException of(String what, Digest expected, Digest actual, String found) {
        return new DigestMismatchException(expected, actual,
                what + ": content does not match digest " + expected + " (got " + found + ")");
    }

    /** The digest the content should have. */
    public Digest expected() {
        return expected;
    }

    /** The digest the content has, if it was hashed (the message says what was found either way). */
    public Optional<Digest> actual() {
        return Optional.ofNullable(actual);
    }
}
