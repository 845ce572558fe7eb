package io.layerswarm.node;

/**
 * What this node has measured of one link, from its own transfers and probes. Throughput is the swarm's
 * smoothed rate of verified pieces from that source (request to arrival, so it includes the request's
 * round trip); RTT is the smoothed libp2p ping to a peer, or the time of a {@code GET /v2/} to a
 * registry ({@link Node#probeUpstreams}).
 *
 * @param bytesPerSecond smoothed piece throughput; 0 while nothing was received
 * @param rttMillis smoothed round trip in milliseconds; NaN while never measured
 * @param bytesReceived verified bytes received over this link
 */
public record LinkMeasurement(double bytesPerSecond, double rttMillis, long bytesReceived) {

    /** Validates the figures. */
    public LinkMeasurement {
        if (!(bytesPerSecond >= 0) || Double.isInfinite(bytesPerSecond)) {
            throw new IllegalArgumentException("throughput must be >= 0 and finite, got " + bytesPerSecond);
        }
        if (rttMillis < 0 || Double.isInfinite(rttMillis)) {
            throw new IllegalArgumentException("RTT must be >= 0 and finite (or NaN), got " + rttMillis);
        }
        if (bytesReceived < 0) {
            throw new IllegalArgumentException("negative bytes received: " + bytesReceived);
        }
    }

    /** Whether a throughput was measured (some piece arrived over this link). */
    public boolean hasThroughput() {
        return bytesPerSecond > 0;
    }

    /** Whether a round trip was measured. */
    public boolean hasRtt() {
        return !Double.isNaN(rttMillis);
    }
}
