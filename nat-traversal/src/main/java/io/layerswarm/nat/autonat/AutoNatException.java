package io.layerswarm.nat.autonat;

import java.io.IOException;

/** An AutoNAT message that does not decode or breaks the protocol. */
public final class AutoNatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** With a message saying what was wrong. */
    public AutoNatException(String message) {
        super(message);
    }
}
