package io.layerswarm.swarm;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Where verified pieces go: normally a partial blob of the content store. */
public interface PieceSink {

    /** Writes a verified piece. */
    void write(long offset, ByteBuffer data) throws IOException;

    /**
     * Makes the blob visible, after checking the whole blob against its digest.
     *
     * @throws IOException if the assembled blob does not match its digest (the piece hashes lied)
     */
    void commit() throws IOException;

    /** Discards what was written. */
    void abort();
}
