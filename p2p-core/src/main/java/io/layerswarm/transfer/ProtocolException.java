package io.layerswarm.transfer;

import java.io.IOException;

/** The peer broke the layer exchange protocol (garbage, oversized frames, inconsistent answers). */
public final class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    /** @param message what was wrong */
    public ProtocolException(String message) {
        super(message);
    }
}
