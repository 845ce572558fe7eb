package io.layerswarm.handoff;

import java.io.IOException;

/**
 * A file changed between the scan and the send (the container is still running): the round was
 * aborted mid-stream, the target discards it, and the caller rescans and retries.
 */
public final class SourceChangedException extends IOException {
    /** @param message which file and how */
    public SourceChangedException(String message) {
        super(message);
    }
}
