package io.layerswarm.node;

import io.layerswarm.oci.Digest;

/**
 * What a {@link LayerSwarm} tells observers (metrics, logs) about its downloads. Called on the swarm's
 * loop thread: implementations must be quick and must not block.
 */
public interface SwarmListener {
    /** A piece of {@code bytes} bytes from {@code source} was verified and written. */
    default void pieceAccepted(Digest blob, String source, boolean fromOrigin, int bytes) {
    }

    /** A piece from {@code source} did not match its hash and was thrown away. */
    default void pieceRejected(Digest blob, String source) {
    }

    /** Peer {@code source} sent a bad piece or failed repeatedly and is banned for a while (the registry never is: {@code fromOrigin} is false). */
    default void sourceBanned(Digest blob, String source, boolean fromOrigin, String reason) {
    }
}
