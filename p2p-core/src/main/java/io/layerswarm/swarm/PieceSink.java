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
     * @throws MismatchException if the assembled blob does not match its digest (the piece hashes lied)
     * @throws IOException if it could not be checked or stored
     */
    void commit() throws IOException;

    /** The assembled bytes do not hash to the blob's digest; nothing was committed. */
    final class MismatchException extends IOException {
        private static final long serialVersionUID = 1L;

        /** @param message what was expected and found */
        public MismatchException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Discards what was written. */
    void abort();
}
