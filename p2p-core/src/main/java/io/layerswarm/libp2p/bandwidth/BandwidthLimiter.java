package io.layerswarm.libp2p.bandwidth;

import java.util.function.LongSupplier;

/**
 * A token bucket for one direction of all of a host's connections: every byte sent (or received) on
 * any connection takes a token, tokens refill at the configured rate, and a caller that overdraws is
 * told how long to wait instead of being blocked, so it can be used from Netty event loops.
 *
 * <p>Reservations are served in the order they are made: an overdraft is a debt that later
 * reservations wait behind, so the total rate across connections stays at the limit however many
 * connections share it.
 */
public final class BandwidthLimiter {
    /** Bytes let through at once after an idle period, at least; more for fast rates (100 ms of the rate). */
    static final long MIN_BURST = 64 * 1024;

    private final long bytesPerSecond;
    private final double bytesPerNano;
    private final long burst;
    private final LongSupplier nanoClock;
    private double tokens;
    private long last;
    private long bytes;
    private long delayedNanos;

    private BandwidthLimiter(long bytesPerSecond, long burst, LongSupplier nanoClock) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("rate must be positive, got " + bytesPerSecond);
        }
        if (burst <= 0) {
            throw new IllegalArgumentException("burst must be positive, got " + burst);
        }
        this.bytesPerSecond = bytesPerSecond;
        this.bytesPerNano = bytesPerSecond / 1e9;
        this.burst = burst;
        this.nanoClock = nanoClock;
        this.tokens = burst;
        this.last = nanoClock.getAsLong();
    }

    /** A limiter at {@code bytesPerSecond} with a burst of 100 ms of the rate (at least 64 KiB). */
    public static BandwidthLimiter of(long bytesPerSecond) {
        return new BandwidthLimiter(bytesPerSecond, Math.max(MIN_BURST, bytesPerSecond / 10), System::nanoTime);
    }

    /** A limiter with an explicit burst and clock (tests). */
    public static BandwidthLimiter of(long bytesPerSecond, long burstBytes, LongSupplier nanoClock) {
        return new BandwidthLimiter(bytesPerSecond, burstBytes, nanoClock);
    }

    /** The configured rate. */
    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /**
     * Takes {@code n} tokens now, going into debt if there are not enough.
     *
     * @return nanoseconds until the bucket is out of debt, i.e. until these bytes would have passed at
     *     the rate; 0 when they fit the bucket
     */
    public synchronized long reserve(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("negative byte count");
        }
        long now = nanoClock.getAsLong();
        tokens = Math.min(burst, tokens + (now - last) * bytesPerNano);
        last = now;
        tokens -= n;
        bytes += n;
        if (tokens >= 0) {
            return 0;
        }
        long wait = (long) Math.ceil(-tokens / bytesPerNano);
        delayedNanos += wait;
        return wait;
    }

    /** Bytes that passed through this limiter since it was made. */
    public synchronized long bytes() {
        return bytes;
    }

    /** Sum of the waits handed out (a connection waits for each of its own), for metrics. */
    public synchronized long delayedNanos() {
        return delayedNanos;
    }
}
