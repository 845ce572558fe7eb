package io.layerswarm.node;

/**
 * Receives a {@link Node}'s events. Every method has an empty default, so an embedder overrides only
 * what it needs. Methods are called on the node's threads and must return quickly; a listener that
 * throws is logged and otherwise ignored.
 */
public interface NodeListener {
    /** Verified bytes of a blob being fetched reached the store. */
    default void blobProgress(NodeEvent.BlobProgress event) {
    }

    /** A blob was fetched, verified and committed. */
    default void blobFetched(NodeEvent.BlobFetched event) {
    }

    /** A blob was handed to a local client. */
    default void blobServed(NodeEvent.BlobServed event) {
    }

    /** A peer connected. */
    default void peerConnected(NodeEvent.PeerConnected event) {
    }

    /** A peer disconnected. */
    default void peerLost(NodeEvent.PeerLost event) {
    }

    /** A blob was evicted from the store. */
    default void blobEvicted(NodeEvent.BlobEvicted event) {
    }
}
