package io.layerswarm.nat.relay;

import java.io.IOException;

/** A circuit relay message that does not decode or breaks the protocol. */
public final class CircuitProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    /** With a message saying what was wrong. */
    public CircuitProtocolException(String message) {
        super(message);
    }

    /** With a message and the underlying cause. */
    public CircuitProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
