package io.layerswarm.registry;

import java.time.Duration;
import java.util.Objects;

/**
 * How often and how patiently to retry a request that failed with 5xx, 429 or a lost connection.
 * Backoff doubles from {@code initialBackoff} up to {@code maxBackoff}.
 *
 * @param maxAttempts total attempts including the first (1 = no retry)
 * @param initialBackoff delay before the first retry
 * @param maxBackoff upper bound for any delay (also caps a server's Retry-After)
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {

    /** Validates. */
    public RetryPolicy {
        Objects.requireNonNull(initialBackoff, "initialBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        if (maxAttempts < 1 || maxAttempts > 100) {
            throw new IllegalArgumentException("maxAttempts must be in 1..100, got " + maxAttempts);
        }
        if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("need 0 <= initialBackoff <= maxBackoff");
        }
    }

    /** 4 attempts, 200 ms doubling to at most 5 s. */
    public static RetryPolicy defaults() {
        return new RetryPolicy(4, Duration.ofMillis(200), Duration.ofSeconds(5));
    }

    /** A single attempt. */
    public static RetryPolicy none() {
        return new RetryPolicy(1, Duration.ZERO, Duration.ZERO);
    }

    /** Delay before retry number {@code retry} (1-based). */
    public Duration backoff(int retry) {
        long ms = initialBackoff.toMillis();
        for (int i = 1; i < retry && ms < maxBackoff.toMillis(); i++) {
            ms *= 2;
        }
        return Duration.ofMillis(Math.min(ms, maxBackoff.toMillis()));
    }
}
