package io.layerswarm.libp2p.kad;

import java.io.IOException;

/** A peer sent a kad frame or message that violates the protocol (malformed, oversized, wrong type). */
public class KadProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    /** With a message. */
    public KadProtocolException(String message) {
        super(message);
    }

    /** With a message and cause. */
    public KadProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
