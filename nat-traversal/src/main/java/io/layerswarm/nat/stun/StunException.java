package io.layerswarm.nat.stun;

import java.io.IOException;

/** A datagram that is not a valid STUN message, or a STUN exchange that failed. */
public final class StunException extends IOException {
    private static final long serialVersionUID = 1L;

    /** With a message saying what was wrong. */
    public StunException(String message) {
        super(message);
    }
}
