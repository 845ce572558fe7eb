package io.layerswarm.daemon.demo;

/**
 * A token bucket shared by every connection of an emulated link: {@link #take} blocks until the link
 * could have carried that many bytes at its rate, so the link's total throughput stays at the rate
 * however many connections share it.
 */
final class TokenBucket {
    private final double bytesPerNano;
    private final long burst;
    private double tokens;
    private long last;

    /**
     * @param bitsPerSecond link rate
     * @param burstBytes bytes that may pass at once after an idle period
     */
    TokenBucket(long bitsPerSecond, long burstBytes) {
        if (bitsPerSecond <= 0 || burstBytes <= 0) {
            throw new IllegalArgumentException("rate and burst must be positive");
        }
        this.bytesPerNano = bitsPerSecond / 8e9;
        this.burst = burstBytes;
        this.tokens = burstBytes;
        this.last = System.nanoTime();
    }

    /** Blocks until {@code n} bytes may be sent. Callers are served in the order they get the lock. */
    synchronized void take(int n) throws InterruptedException {
        long now = System.nanoTime();
        tokens = Math.min(burst, tokens + (now - last) * bytesPerNano);
        last = now;
        tokens -= n;
        if (tokens < 0) {
            // a debt: sleep while holding the lock so later callers queue behind this one
            long waitNanos = (long) (-tokens / bytesPerNano);
            Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
        }
    }
}
