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
 * @param claimWait the longest a new download waits for connected peers to answer its claim (the
 *     announcement that it starts fetching) before it asks the registry anyway; it asks as soon as
 *     every connected peer has answered, at once when none is connected
 * @param originStall a piece assigned to another fetcher may come from the registry once that fetcher has
 *     announced no newly verified piece for this long
 * @param peerTimeout bound on opening a stream to a peer
 */
public record SwarmConfig(int pieceSize, int maxUploads, Duration uploadSlotWait, DownloadConfig download,
                          Duration claimWait, Duration originStall, Duration peerTimeout) {

    /**
     * Defaults: 4 MiB pieces, 3 uploads, a claim wait of at most 3 s. Claims are normally answered
     * within one round trip; the bound is generous because a fetcher that goes ahead without the
     * answers may fetch registry pieces another node fetches too, and on the 2-core test machine at
     * load average 26-37, in a fresh JVM, answers were measured to take 0.2-1.2 s (1 s was exceeded:
     * the registry sent 1.2x). The fixed wait this replaces (the 1 s "origin grace"; 300 ms was too
     * short under load) was paid by every fetch.
     */
    public static SwarmConfig defaults() {
        return new SwarmConfig(4 * 1024 * 1024, 3, Duration.ofSeconds(2), DownloadConfig.defaults(),
                Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    /** A copy with another piece size. */
    public SwarmConfig withPieceSize(int size) {
        return new SwarmConfig(size, maxUploads, uploadSlotWait, download, claimWait, originStall, peerTimeout);
    }

    /** A copy with another upload limit. */
    public SwarmConfig withMaxUploads(int n) {
        return new SwarmConfig(pieceSize, n, uploadSlotWait, download, claimWait, originStall, peerTimeout);
    }

    /** A copy with other per-download knobs. */
    public SwarmConfig withDownload(DownloadConfig d) {
        return new SwarmConfig(pieceSize, maxUploads, uploadSlotWait, d, claimWait, originStall, peerTimeout);
    }

    /** A copy with another bound on waiting for claim answers. */
    public SwarmConfig withClaimWait(Duration wait) {
        return new SwarmConfig(pieceSize, maxUploads, uploadSlotWait, download, wait, originStall, peerTimeout);
    }

    /** A copy with another bound on waiting for a silent fetcher before taking its pieces from the registry. */
    public SwarmConfig withOriginStall(Duration stall) {
        return new SwarmConfig(pieceSize, maxUploads, uploadSlotWait, download, claimWait, stall, peerTimeout);
    }
}
