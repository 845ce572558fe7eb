package io.layerswarm.libp2p.host;

import java.io.IOException;

/**
 * A blocking write waited too long for the peer to read: the stream's window stayed closed for
 * {@link #STALL_LIMIT}. A peer that does not read (or reads a byte at a time) must not hold the
 * writer, and whatever the writer holds (an upload slot), for good.
 */
public final class StreamStalledException extends IOException {
    private static final long serialVersionUID = 1L;

    /** How long a blocking write waits for the peer to make room before it gives up. */
    public static final java.time.Duration STALL_LIMIT = java.time.Duration.ofSeconds(10);

    StreamStalledException(String message) {
        super(message);
    }
}
