package io.layerswarm.cache.layout;

import java.io.IOException;

/** An OCI layout directory is malformed (missing or invalid {@code oci-layout} or {@code index.json}). */
public final class InvalidLayoutException extends IOException {
    /** @param message what is wrong, naming the file */
    public InvalidLayoutException(String message) {
        super(message);
    }

    /** @param message what is wrong @param cause the parser's error */
    public InvalidLayoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
