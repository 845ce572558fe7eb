package io.layerswarm.k8s.status;

import java.time.Duration;
import java.util.Objects;

/**
 * How often and how much a node probes the throughput of links no transfer has measured yet
 * ({@link io.layerswarm.node.Node#probeThroughput}), so a node that has fetched nothing still publishes
 * measured links. Probes cost one bounded read per unmeasured link and nothing once a link is measured.
 *
 * @param interval least time between two probe rounds; {@link Duration#ZERO} turns probing off
 * @param bytes bytes read per link and round
 */
public record BandwidthProbe(Duration interval, int bytes) {
    /** Shortest interval: probes stay light even on a node that keeps finding new peers. */
    public static final Duration MIN_INTERVAL = Duration.ofSeconds(10);
    /** Longest interval accepted. */
    public static final Duration MAX_INTERVAL = Duration.ofHours(24);
    /** Smallest read: below this, the request's round trip dominates and the rate says little. */
    public static final int MIN_BYTES = 64 * 1024;
    /** Largest read: a light probe, not a download (16 MiB is four default pieces). */
    public static final int MAX_BYTES = 16 << 20;
    /** Ten minutes, 1 MiB per link: a few MiB per node and round at most, and nothing once links are measured. */
    public static final BandwidthProbe DEFAULT = new BandwidthProbe(Duration.ofMinutes(10), 1 << 20);
    /** No bandwidth probes (round trips are still probed: they cost one tiny request). */
    public static final BandwidthProbe OFF = new BandwidthProbe(Duration.ZERO, MIN_BYTES);

    /** Validates. */
    public BandwidthProbe {
        Objects.requireNonNull(interval, "interval");
        if (!interval.isZero() && (interval.compareTo(MIN_INTERVAL) < 0 || interval.compareTo(MAX_INTERVAL) > 0)) {
            throw new IllegalArgumentException("link probe interval must be 0 (off) or between " + MIN_INTERVAL.toSeconds()
                    + " s and " + MAX_INTERVAL.toHours() + " h, got " + interval);
        }
        if (bytes < MIN_BYTES || bytes > MAX_BYTES) {
            throw new IllegalArgumentException("link probe size must be between 64KiB and 16MiB, got " + bytes + " bytes");
        }
    }

    /** Whether probes run. */
    public boolean enabled() {
        return !interval.isZero();
    }
}
