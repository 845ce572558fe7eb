package io.layerswarm.swarm;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * Somewhere pieces of one blob can be fetched from: a peer over the layer exchange protocol, or the
 * registry with {@code Range} requests. Cancelling a returned future asks the source to stop.
 */
public interface PieceSource {

    /** Stable identity, e.g. the peer id, or {@code registry:<host>}. */
    String id();

    /**
     * Whether this is the origin (the registry): it holds every piece but sits behind the slow,
     * expensive uplink, so it is used only for pieces no peer can supply in time.
     */
    boolean isOrigin();

    /**
     * Fetches {@code length} bytes at {@code offset} of the blob.
     *
     * @return the bytes, unverified (the download verifies them)
     */
    CompletableFuture<ByteBuffer> fetch(long offset, int length);

    /**
     * Implemented by errors that may say the source is healthy but cannot serve right now (e.g. all
     * its upload slots are busy): such a failure is retried and does not count toward banning it.
     */
    interface Refusal {
        /** Whether the source only refused for now. */
        boolean busy();

        /**
         * Whether the source does not hold the range it was asked for (it announced it, then evicted it,
         * or the announcement ran ahead of the write): its holdings are stale, it is not failing.
         */
        default boolean notHeld() {
            return false;
        }
    }
}
