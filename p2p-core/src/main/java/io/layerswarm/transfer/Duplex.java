package io.layerswarm.transfer;

import java.io.Closeable;
import java.io.InputStream;
import java.io.OutputStream;

/** A bidirectional byte stream to a peer, e.g. one libp2p stream. Closing it releases both directions. */
public interface Duplex extends Closeable {

    /** Bytes from the peer. */
    InputStream in();

    /** Bytes to the peer. */
    OutputStream out();

    /**
     * Whether the stream may carry another request after a complete answer (it was negotiated as
     * {@link LayerExchangeServer#SESSION_PROTOCOL}); otherwise it carries one request and is closed.
     */
    default boolean reusable() {
        return false;
    }
}
