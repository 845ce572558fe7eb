package io.layerswarm.refactor.index;

import java.io.IOException;
import java.io.InputStream;

/** Receives file contents while a layer is scanned, so later stages need not read the layer again. */
@FunctionalInterface
public interface ContentSink {
    /**
     * Consumes exactly {@code size} bytes of one regular file and returns their hex sha256.
     *
     * @throws IOException if the content cannot be read or kept
     */
    String accept(InputStream content, long size) throws IOException;
}
