package io.layerswarm.libp2p.multistream;

import io.netty.channel.ChannelHandlerContext;

/**
 * Installs the handlers of a negotiated protocol. Called on the event loop, before any byte that
 * follows the negotiation is released, so nothing the peer sent early is lost. Handlers should be
 * added with {@code anchor.pipeline().addAfter(anchor.name(), ...)}; the anchor (the negotiator) is
 * removed right after this returns.
 */
@FunctionalInterface
public interface ProtocolInstaller {

    /** Adds the handlers for {@code protocol}; throwing fails the negotiation and closes the channel. */
    void install(ChannelHandlerContext anchor, String protocol);

    /** Installs nothing (the caller adds handlers itself; early data goes to the pipeline tail). */
    ProtocolInstaller NONE = (anchor, protocol) -> { };
}
