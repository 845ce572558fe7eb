package io.layerswarm.nat.ice;

import java.io.IOException;

/** An ICE exchange message that does not decode, breaks a bound or comes out of turn. */
public final class IceProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    /** With a message saying what was wrong. */
    public IceProtocolException(String message) {
        super(message);
    }

    /** With a message and the underlying cause. */
    public IceProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
