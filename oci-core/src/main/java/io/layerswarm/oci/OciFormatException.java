package io.layerswarm.oci;

/**
 * Thrown when a manifest, index, image config or reference is malformed, oversized, or of a type
 * this project does not handle. The message names the offending field.
 */
public class OciFormatException extends IllegalArgumentException {
    /** With a message naming the problem. */
    public OciFormatException(String message) {
        super(message);
    }

    /** With a message and the parser's cause. */
    public OciFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
