package io.layerswarm.k8s.view;

/**
 * A measured network path: sustained throughput and round-trip time.
 *
 * @param bytesPerSecond throughput, positive
 * @param rttMillis round-trip time in milliseconds, not negative
 */
public record LinkEstimate(double bytesPerSecond, double rttMillis) {
    /** The transfer size {@link #referenceThroughput()} is measured for: a typical layer fetch. */
    public static final long REFERENCE_BYTES = 16L << 20;

    /** Validates the figures. */
    public LinkEstimate {
        if (!(bytesPerSecond > 0) || Double.isInfinite(bytesPerSecond)) {
            throw new IllegalArgumentException("link bandwidth must be positive and finite, got " + bytesPerSecond);
        }
        if (!(rttMillis >= 0) || Double.isInfinite(rttMillis)) {
            throw new IllegalArgumentException("link RTT must be >= 0 and finite, got " + rttMillis);
        }
    }

    /** A link of {@code mbitPerSecond} megabits per second and {@code rttMillis}. */
    public static LinkEstimate mbps(double mbitPerSecond, double rttMillis) {
        return new LinkEstimate(mbitPerSecond * 1_000_000 / 8, rttMillis);
    }

    /** Time to move {@code bytes} over this link: one round trip plus the bytes at the measured rate. */
    public double seconds(long bytes) {
        return rttMillis / 1000 + bytes / bytesPerSecond;
    }

    /**
     * Throughput of a reference transfer of {@value #REFERENCE_BYTES} bytes ({@code bytes / (rtt + bytes /
     * bandwidth)}), which charges latency the way a layer fetch feels it. The one link metric of
     * NetworkPerformance and of the order of {@link NodeStatus#peers()}: both must use the same figure, or
     * the scorer's walk down that order could stop at the wrong peer.
     */
    public double referenceThroughput() {
        return REFERENCE_BYTES / seconds(REFERENCE_BYTES);
    }
}
