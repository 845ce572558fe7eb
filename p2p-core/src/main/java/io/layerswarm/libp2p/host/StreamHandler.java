package io.layerswarm.libp2p.host;

/**
 * Sets up a negotiated stream Netty-style. Called on the stream's event loop right after the protocol
 * was agreed and before any data that followed the negotiation is delivered: add the protocol's
 * handlers with {@code stream.channel().pipeline().addLast(...)}. Must not block.
 */
@FunctionalInterface
public interface StreamHandler {

    /** Adds the protocol's handlers to the stream's pipeline. */
    void initStream(P2pStream stream) throws Exception;
}
