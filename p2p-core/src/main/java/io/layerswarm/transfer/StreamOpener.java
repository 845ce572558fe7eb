package io.layerswarm.transfer;

import java.io.IOException;

/** Opens a new layer-exchange stream to one peer. */
@FunctionalInterface
public interface StreamOpener {

    /**
     * Opens a stream: one that is {@link Duplex#reusable()} is kept by the client for further requests,
     * any other carries one request.
     */
    Duplex open() throws IOException;
}
