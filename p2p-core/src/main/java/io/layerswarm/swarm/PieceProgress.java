package io.layerswarm.swarm;

import java.util.BitSet;
import java.util.Objects;
import java.util.Optional;

/**
 * Which pieces of one download are verified so far, and how it ended, for readers on other threads
 * (e.g. an HTTP response streaming the blob while it arrives). The swarm loop reports; readers ask or
 * wait.
 */
public final class PieceProgress {
    private final PieceLayout layout;
    private final BitSet verified;
    private boolean complete;
    private Throwable failure;

    /** Nothing verified yet. */
    public PieceProgress(PieceLayout layout) {
        this.layout = Objects.requireNonNull(layout, "layout");
        this.verified = new BitSet(layout.count());
    }

    /** The layout. */
    public PieceLayout layout() {
        return layout;
    }

    /** Piece {@code piece} is verified and written. */
    public synchronized void verified(int piece) {
        verified.set(piece);
        notifyAll();
    }

    /** The whole blob matched its digest and is committed. */
    public synchronized void complete() {
        complete = true;
        verified.set(0, layout.count());
        notifyAll();
    }

    /** The download failed, or its bytes turned out wrong: what was read of it must not be trusted. */
    public synchronized void fail(Throwable cause) {
        if (!complete && failure == null) {
            failure = Objects.requireNonNull(cause, "cause");
            notifyAll();
        }
    }

    /** Whether the blob is committed, verified. */
    public synchronized boolean isComplete() {
        return complete;
    }

    /** Why the download failed, if it did. */
    public synchronized Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /**
     * The end (exclusive) of the run of verified bytes that contains {@code offset}; {@code offset}
     * itself if its piece is not verified.
     */
    public synchronized long verifiedUpTo(long offset) {
        if (offset >= layout.blobSize()) {
            return layout.blobSize();
        }
        int first = (int) (offset / layout.pieceSize());
        if (!verified.get(first)) {
            return offset;
        }
        int end = verified.nextClearBit(first);
        return end >= layout.count() ? layout.blobSize() : layout.offset(end);
    }

    /** Waits up to {@code millis} for any change (a piece, completion or failure). */
    public synchronized void awaitChange(long millis) throws InterruptedException {
        if (!complete && failure == null) {
            wait(Math.max(1, millis));
        }
    }
}
