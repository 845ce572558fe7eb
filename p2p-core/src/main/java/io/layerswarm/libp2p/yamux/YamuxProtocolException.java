package io.layerswarm.libp2p.yamux;

import java.io.IOException;

/** The remote side broke the Yamux protocol; the session answers with a go-away and closes. */
public final class YamuxProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message saying what was wrong. */
    public YamuxProtocolException(String message) {
        super(message);
    }
}
