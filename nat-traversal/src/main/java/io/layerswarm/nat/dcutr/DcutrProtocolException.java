package io.layerswarm.nat.dcutr;

import java.io.IOException;

/** A DCUtR message that does not decode, breaks a bound or comes out of turn. */
public final class DcutrProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    /** With a message saying what was wrong. */
    public DcutrProtocolException(String message) {
        super(message);
    }

    /** With a message and the underlying cause. */
    public DcutrProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
