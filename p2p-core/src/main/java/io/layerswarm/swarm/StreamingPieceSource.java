package io.layerswarm.swarm;

import java.util.concurrent.CompletableFuture;

/**
 * A {@link PieceSource} that can write a piece straight into its place in the blob as the bytes arrive,
 * instead of collecting it on the heap first. The download still verifies the piece (by the hash the
 * {@link PieceRegion} computes while writing) before it counts as held.
 */
public interface StreamingPieceSource extends PieceSource {

    /**
     * Fetches the piece at {@code offset} into {@code region}, in order, and completes once its last
     * byte is written (or with the error). Cancelling the future asks the source to stop; the download
     * also revokes the region, so a late write is refused.
     */
    CompletableFuture<Void> fetchInto(long offset, PieceRegion region);
}
