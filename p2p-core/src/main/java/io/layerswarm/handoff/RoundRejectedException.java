package io.layerswarm.handoff;

import java.io.IOException;

/** A round stream was refused; the receiver's committed tree is unchanged and the staging tree is gone. */
public final class RoundRejectedException extends IOException {
    /** Why a round was refused. */
    public enum Reason {
        /** Not a well-formed round stream: bad frame, record out of place, truncated, wrong counts. */
        CORRUPT,
        /** Content that does not match its announced digest or size. */
        DIGEST_MISMATCH,
        /** A path or link that would escape the root or write through a symlink. */
        UNSAFE,
        /** More content than announced, or an announcement over the receiver's limits. */
        OVERSIZE,
        /** A reference to content the receiver does not hold. */
        MISSING_CONTENT
    }

    private final Reason reason;

    /** @param reason the category @param message what and where */
    public RoundRejectedException(Reason reason, String message) {
        super(reason + ": " + message);
        this.reason = reason;
    }

    /** @param reason the category @param message what and where @param cause the underlying error */
    public RoundRejectedException(Reason reason, String message, Throwable cause) {
        super(reason + ": " + message, cause);
        this.reason = reason;
    }

    /** The category. */
    public Reason reason() {
        return reason;
    }
}
