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
    /** Registry pieces being written in order as they arrive, not verified yet (see {@link #arriving}). */
    private final java.util.Map<Integer, PieceRegion> arriving = new java.util.HashMap<>();
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
        arriving.remove(piece);
        notifyAll();
    }

    /**
     * Piece {@code piece} is being written into {@code region} by the registry, in order, as it arrives
     * (replacing an earlier region of the piece): a reader streaming the whole blob may hand out its
     * bytes before the piece is complete, as long as it checks that the region was not revoked before
     * going on (see {@link #arrivingRegion}).
     */
    public synchronized void arriving(int piece, PieceRegion region) {
        if (!verified.get(piece) && !complete) {
            arriving.put(piece, Objects.requireNonNull(region, "region"));
            notifyAll();
        }
    }

    /** The region writing piece {@code piece} as it arrives, if any and not revoked. */
    public synchronized Optional<PieceRegion> arrivingRegion(int piece) {
        PieceRegion r = arriving.get(piece);
        return r == null || r.revoked() ? Optional.empty() : Optional.of(r);
    }

    /** The whole blob matched its digest and is committed. */
    public synchronized void complete() {
        complete = true;
        verified.set(0, layout.count());
        arriving.clear();
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
