package io.layerswarm.libp2p.host;

/**
 * Serves a negotiated stream with plain blocking I/O ({@link P2pStream#inputStream()},
 * {@link P2pStream#outputStream()}) on a worker thread of the host. When it returns the stream is
 * half-closed and closed; when it throws the stream is reset.
 */
@FunctionalInterface
public interface BlockingStreamHandler {

    /** Handles one stream. */
    void handle(P2pStream stream) throws Exception;
}
