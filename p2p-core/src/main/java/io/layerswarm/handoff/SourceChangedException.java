package io.layerswarm.handoff;

import java.io.IOException;

/**
 * A file changed between the scan and the send (the container is still running): the round was
 * aborted mid-stream, the target discards it, and the caller rescans and retries.
 */
public final class SourceChangedException extends IOException {
    private final String path;
    private final long wireBytes;

    /** @param path the file's path in the tree @param message which file and how */
    public SourceChangedException(String path, String message) {
        this(path, message, 0);
    }

    private SourceChangedException(String path, String message, long wireBytes) {
        super(message);
        this.path = path;
        this.wireBytes = wireBytes;
    }

    /** The same, saying how many bytes of the aborted round went out before it was aborted. */
    public SourceChangedException withWireBytes(long bytes) {
        return new SourceChangedException(path, getMessage(), bytes);
    }

    /** Bytes of the aborted round already on the wire (0 if not known). */
    public long wireBytes() {
        return wireBytes;
    }

    /** The changed file's path in the tree. */
    public String path() {
        return path;
    }
}
