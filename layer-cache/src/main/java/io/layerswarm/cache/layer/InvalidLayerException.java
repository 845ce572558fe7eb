package io.layerswarm.cache.layer;

import java.io.IOException;

/**
 * A layer was rejected: corrupt, unsupported, hostile or over a limit. When thrown by
 * {@link LayerApplier}, nothing was written outside the root directory, but the root may hold part
 * of the layer and should be discarded.
 */
public final class InvalidLayerException extends IOException {
    /** Why a layer was rejected. */
    public enum Kind {
        /** Not a readable tar / gzip / zstd stream, or truncated. */
        CORRUPT,
        /** A path, link or whiteout that would escape the root or write through a symlink. */
        UNSAFE,
        /** Over one of the {@link TarLimits}. */
        LIMIT_EXCEEDED,
        /** Valid but not supported (e.g. GNU sparse entries, unknown media type). */
        UNSUPPORTED
    }

    private final Kind kind;

    /** @param kind the category @param message what and where */
    public InvalidLayerException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    /** @param kind the category @param message what and where @param cause the underlying error */
    public InvalidLayerException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    /** The category of the problem. */
    public Kind kind() {
        return kind;
    }
}
