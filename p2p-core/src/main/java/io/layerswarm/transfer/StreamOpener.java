package io.layerswarm.transfer;

import java.io.IOException;

/** Opens a new {@code /layerswarm/layer/1.0.0} stream to one peer. */
@FunctionalInterface
public interface StreamOpener {

    /** Opens a stream; each request uses a stream of its own. */
    Duplex open() throws IOException;
}
