package io.layerswarm.registry;

import io.layerswarm.oci.Digest;

/** Content did not hash to the digest it was requested or announced by. */
public class DigestMismatchException extends RegistryException {
    private final Digest expected;
    private final String actual;

    /**
     * @param what what was verified, e.g. {@code blob app@sha256:...}
     * @param expected the digest asked for
     * @param actual what the content hashed to (or a description such as a size mismatch)
     */
    public DigestMismatchException(String what, Digest expected, String actual) {
        super(what + ": content does not match digest " + expected + " (got " + actual + ")");
        this.expected = expected;
        this.actual = actual;
    }

    /** The digest that was expected. */
    public Digest expected() {
        return expected;
    }

    /** What was found instead. */
    public String actual() {
        return actual;
    }
}
