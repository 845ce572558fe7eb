package io.layerswarm.handoff;

import java.io.IOException;

/**
 * A file changed between the scan and the send (the container is still running): the round was
 * aborted mid-stream, the target discards it, and the caller rescans and retries.
 */
public final class SourceChangedException extends IOException {
    private final String path;

    /** @param path the file's path in the tree @param message which file and how */
    public SourceChangedException(String path, String message) {
        super(message);
        this.path = path;
    }

    /** The changed file's path in the tree. */
    public String path() {
        return path;
    }
}
