package io.layerswarm.swarm;

/**
 * What a node has measured of one source: round-trip time from pings and an exponentially weighted
 * moving average of piece throughput. Mutable, owned by the swarm loop.
 */
public final class SourceStats {
    /** Weight of the newest sample. */
    static final double ALPHA = 0.3;

    private double bytesPerSecond;
    private double rttMillis = Double.NaN;
    private int failures;
    private long bytesReceived;

    /** Records a piece of {@code bytes} that took {@code nanos} from request to arrival. */
    public void recordPiece(long bytes, long nanos) {
        recordProbe(bytes, nanos);
        failures = 0;
    }

    /**
     * Records a throughput sample taken outside a download (a bounded probe read of {@code bytes} that
     * took {@code nanos} from request to arrival): it feeds the same average as pieces, so a link is
     * measured the same way whether a transfer or a probe measured it, but leaves the failure count
     * alone (a probe says nothing about whether the source serves downloads).
     */
    public void recordProbe(long bytes, long nanos) {
        double sample = bytes * 1e9 / Math.max(nanos, 1_000);
        bytesPerSecond = bytesPerSecond == 0 ? sample : ALPHA * sample + (1 - ALPHA) * bytesPerSecond;
        bytesReceived += bytes;
    }

    /** Records a ping round trip. */
    public void recordRtt(double millis) {
        rttMillis = Double.isNaN(rttMillis) ? millis : ALPHA * millis + (1 - ALPHA) * rttMillis;
    }

    /** Records a failed or timed-out request and returns the consecutive failure count. */
    public int recordFailure() {
        return ++failures;
    }

    /** Estimated throughput, 0 if nothing measured yet. */
    public double bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Estimated RTT in milliseconds, NaN if never measured. */
    public double rttMillis() {
        return rttMillis;
    }

    /** Bytes received from this source. */
    public long bytesReceived() {
        return bytesReceived;
    }

    /**
     * Estimated time to fetch {@code bytes}: the round trip plus the transfer at the measured rate, or at
     * {@code assumedBytesPerSecond} while nothing has been measured. Orders sources: with no transfers
     * yet the nearest peer (lowest ping) comes first; afterwards the measured throughput dominates.
     */
    public double estimateNanos(long bytes, double assumedBytesPerSecond) {
        double rtt = Double.isNaN(rttMillis) ? 0 : rttMillis * 1e6;
        double rate = bytesPerSecond > 0 ? bytesPerSecond : assumedBytesPerSecond;
        return rtt + bytes * 1e9 / rate;
    }

    /**
     * Time a request for {@code bytes} should take, from measurements; {@code fallbackNanos} when there
     * are none.
     */
    public long expectedNanos(long bytes, long fallbackNanos) {
        if (bytesPerSecond <= 0) {
            return fallbackNanos;
        }
        double rtt = Double.isNaN(rttMillis) ? 0 : rttMillis * 1e6;
        return (long) (rtt + bytes * 1e9 / bytesPerSecond);
    }
}
