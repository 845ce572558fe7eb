package io.layerswarm.swarm;

import io.layerswarm.oci.DigestMismatchException;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Where verified pieces go: normally a partial blob of the content store. */
public interface PieceSink {

    /**
     * Writes bytes at {@code offset}. Called with verified pieces from the download's loop, and from
     * {@link PieceRegion}s with a streaming source's bytes as they arrive (not yet verified: the download
     * counts the piece only once its hash matched, and a region that did not match is written again).
     * Must be safe to call from several threads for distinct ranges.
     */
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
