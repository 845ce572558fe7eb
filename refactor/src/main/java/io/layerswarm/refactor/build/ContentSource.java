package io.layerswarm.refactor.build;

import java.io.IOException;
import java.io.InputStream;

/** Opens file contents by hex sha256 when layers are written. */
@FunctionalInterface
public interface ContentSource {
    /**
     * Opens the content with this sha256.
     *
     * @throws IOException if the content is not available
     */
    InputStream open(String sha256) throws IOException;
}
