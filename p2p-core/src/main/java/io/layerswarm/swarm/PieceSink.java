package io.layerswarm.swarm;

import io.layerswarm.oci.DigestMismatchException;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Where verified pieces go: normally a partial blob of the content store. */
public interface PieceSink {

    /** Writes a verified piece. */
    void write(long offset, ByteBuffer data) throws IOException;

    /**
     * Makes the blob visible, after checking the whole blob against its digest.
     *
     * @throws DigestMismatchException if the assembled blob does not match its digest (the piece hashes lied)
     * @throws IOException if it could not be checked or stored
     */
    void commit() throws IOException;

    /** Discards what was written. */
    void abort();
}
