package io.layerswarm.swarm;

import io.layerswarm.oci.Digest;
import java.time.Duration;
import java.util.Map;

/**
 * What a finished download took and from where.
 *
 * @param blob the blob
 * @param bytesBySource verified bytes used, per source id
 * @param originBytes of those, bytes from the registry
 * @param badPieces pieces that failed verification (their senders were banned)
 * @param elapsed wall time
 */
public record DownloadResult(Digest blob, Map<String, Long> bytesBySource, long originBytes, int badPieces,
                             Duration elapsed) {

    /** Copies the map. */
    public DownloadResult {
        bytesBySource = Map.copyOf(bytesBySource);
    }

    /** Verified bytes from peers. */
    public long peerBytes() {
        return bytesBySource.values().stream().mapToLong(Long::longValue).sum() - originBytes;
    }
}
