package io.layerswarm.libp2p.yamux;

import java.time.Duration;

/**
 * Yamux session limits and flow-control policy.
 *
 * @param initialWindow        per-stream receive window every stream starts with (spec: 256 KiB)
 * @param maxWindow            largest per-stream receive window auto-tuning may grow to
 * @param sessionWindowBudget  sum of receive windows over all streams of a session beyond which no
 *                             window grows; together with {@code maxStreams} this bounds the bytes a
 *                             peer can make the session buffer
 * @param maxStreams           most concurrently open streams (both directions); further inbound
 *                             streams are reset, further outbound opens fail
 * @param maxFrameSize         largest data frame this side sends
 * @param closeTimeout         how long a locally closed stream waits for the remote FIN before it is reset
 */
public record YamuxConfig(int initialWindow, int maxWindow, long sessionWindowBudget, int maxStreams,
                          int maxFrameSize, Duration closeTimeout) {

    /** Spec-mandated initial window. */
    public static final int SPEC_INITIAL_WINDOW = 256 * 1024;

    public YamuxConfig {
        if (initialWindow < SPEC_INITIAL_WINDOW) {
            throw new IllegalArgumentException("initialWindow must be at least 256 KiB");
        }
        if (maxWindow < initialWindow || maxStreams <= 0 || maxFrameSize <= 0
                || sessionWindowBudget < initialWindow) {
            throw new IllegalArgumentException("inconsistent yamux limits");
        }
    }

    /** 256 KiB initial, 16 MiB max window, 64 MiB session budget, 256 streams, 64 KiB frames. */
    public static YamuxConfig defaults() {
        return new YamuxConfig(SPEC_INITIAL_WINDOW, 16 * 1024 * 1024, 64L * 1024 * 1024, 256, 64 * 1024,
                Duration.ofSeconds(10));
    }

    /** Copy with another stream limit. */
    public YamuxConfig withMaxStreams(int n) {
        return new YamuxConfig(initialWindow, maxWindow, sessionWindowBudget, n, maxFrameSize, closeTimeout);
    }

    /** Copy with another largest outgoing data frame. */
    public YamuxConfig withMaxFrameSize(int n) {
        return new YamuxConfig(initialWindow, maxWindow, sessionWindowBudget, maxStreams, n, closeTimeout);
    }

    /** Copy with another maximum window. */
    public YamuxConfig withMaxWindow(int n) {
        return new YamuxConfig(initialWindow, n, Math.max(sessionWindowBudget, n), maxStreams, maxFrameSize,
                closeTimeout);
    }
}
