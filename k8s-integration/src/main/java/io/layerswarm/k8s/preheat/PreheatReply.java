package io.layerswarm.k8s.preheat;

import java.util.List;
import java.util.Objects;

/**
 * A node's answer to a {@link PreheatRequest}, sent once the image is in its store (or could not be).
 *
 * @param status the outcome
 * @param message a readable reason when the status is not {@link Status#OK}, else empty
 * @param blobs per blob of the image (config first, then layers), when the pull got as far as the manifest
 * @param elapsedMillis time the node spent on the request
 */
public record PreheatReply(Status status, String message, List<BlobOutcome> blobs, long elapsedMillis) {
    /** Most blob outcomes in one reply. */
    public static final int MAX_BLOBS = 4096;

    /** What became of a request. */
    public enum Status {
        /** Every blob of the image is in the node's store. */
        OK,
        /** The node is running as many preheats as it takes; ask again later. */
        BUSY,
        /** The request was malformed, not allowed, or the pull failed (see the message). */
        ERROR
    }

    /** Validates and copies. */
    public PreheatReply {
        Objects.requireNonNull(status, "status");
        message = message == null ? "" : message;
        blobs = List.copyOf(blobs);
        if (blobs.size() > MAX_BLOBS) {
            throw new IllegalArgumentException(blobs.size() + " blob outcomes, over " + MAX_BLOBS);
        }
        if (elapsedMillis < 0) {
            throw new IllegalArgumentException("negative elapsed time");
        }
    }

    /** An error reply without blob outcomes. */
    public static PreheatReply error(String message) {
        return new PreheatReply(Status.ERROR, message, List.of(), 0);
    }

    /** Bytes the node took from peers. */
    public long peerBytes() {
        return blobs.stream().mapToLong(BlobOutcome::peerBytes).sum();
    }

    /** Bytes the node took from the registry. */
    public long registryBytes() {
        return blobs.stream().mapToLong(BlobOutcome::registryBytes).sum();
    }
}
