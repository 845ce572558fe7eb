package io.layerswarm.libp2p.yamux;

import java.io.IOException;

/** A Yamux stream was reset (RST) by either side or because its session ended. */
public final class YamuxStreamResetException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message saying why the stream was reset. */
    public YamuxStreamResetException(String message) {
        super(message);
    }
}
