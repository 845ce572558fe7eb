package io.layerswarm.swarm;

import java.time.Duration;

/**
 * Knobs of one blob download.
 *
 * @param maxInflightPerPeer requests pipelined to one peer
 * @param maxInflightOrigin requests in flight to the registry
 * @param minRequestTimeout no request is given up on sooner than this
 * @param slowFactor a request is reassigned after this many times its expected duration
 * @param maxConsecutiveFailures failures before a source is blacklisted
 * @param banDuration how long a failed or lying source stays blacklisted
 * @param endgameCopies in endgame, how many sources may be asked for the same piece
 * @param tick how often timeouts are checked
 */
public record DownloadConfig(int maxInflightPerPeer, int maxInflightOrigin, Duration minRequestTimeout,
                             double slowFactor, int maxConsecutiveFailures, Duration banDuration,
                             int endgameCopies, Duration tick) {

    /** Validates. */
    public DownloadConfig {
        if (maxInflightPerPeer < 1 || maxInflightOrigin < 1 || endgameCopies < 1 || maxConsecutiveFailures < 1) {
            throw new IllegalArgumentException("limits must be positive");
        }
        if (slowFactor < 1) {
            throw new IllegalArgumentException("slowFactor must be >= 1");
        }
    }

    /** Defaults for a LAN-class swarm. */
    public static DownloadConfig defaults() {
        return new DownloadConfig(4, 4, Duration.ofSeconds(5), 4.0, 3, Duration.ofMinutes(5), 2,
                Duration.ofMillis(100));
    }

    /** A copy with another request timeout floor. */
    public DownloadConfig withMinRequestTimeout(Duration d) {
        return new DownloadConfig(maxInflightPerPeer, maxInflightOrigin, d, slowFactor, maxConsecutiveFailures,
                banDuration, endgameCopies, tick);
    }
}
