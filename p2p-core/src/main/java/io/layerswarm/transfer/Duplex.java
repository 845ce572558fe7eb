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
}
