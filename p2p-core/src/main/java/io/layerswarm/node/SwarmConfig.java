package io.layerswarm.node;

import io.layerswarm.swarm.DownloadConfig;
import java.time.Duration;

/**
 * Settings of a swarm node.
 *
 * @param pieceSize piece size for large blobs (smaller blobs use smaller pieces, down to 256 KiB, so
 *     that even they spread over several peers); every node of a cluster should use the same value
 * @param maxUploads piece uploads served at once
 * @param uploadSlotWait how long a piece request may wait for an upload slot before it is refused
 * @param download per-download scheduling knobs
 * @param originGrace time a new download waits for peers before it asks the registry
 * @param originStall time without progress from peers after which any piece may come from the registry
 * @param peerTimeout bound on opening a stream to a peer
 */
public record SwarmConfig(int pieceSize, int maxUploads, Duration uploadSlotWait, DownloadConfig download,
                          Duration originGrace, Duration originStall, Duration peerTimeout) {

    /**
     * Defaults: 4 MiB pieces, 3 uploads, 1 s origin grace (300 ms was measured too short for nodes
     * starting together on a loaded machine to hear of each other: the registry then sent up to 1.85x).
     */
    public static SwarmConfig defaults() {
        return new SwarmConfig(4 * 1024 * 1024, 3, Duration.ofSeconds(2), DownloadConfig.defaults(),
                Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    /** A copy with another piece size. */
    public SwarmConfig withPieceSize(int size) {
        return new SwarmConfig(size, maxUploads, uploadSlotWait, download, originGrace, originStall, peerTimeout);
    }

    /** A copy with another upload limit. */
    public SwarmConfig withMaxUploads(int n) {
        return new SwarmConfig(pieceSize, n, uploadSlotWait, download, originGrace, originStall, peerTimeout);
    }
}
