package io.layerswarm.libp2p.bandwidth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class BandwidthLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Test
    void burstPassesThenDebtIsChargedAtTheRate() {
        BandwidthLimiter l = BandwidthLimiter.of(1_000_000, 100_000, now::get);
        assertEquals(0, l.reserve(100_000), "the burst passes at once");
        // 50 kB over: at 1 MB/s that is 50 ms of debt
        assertEquals(50_000_000L, l.reserve(50_000), 1_000);
        // a second caller queues behind the first one's debt
        assertEquals(100_000_000L, l.reserve(50_000), 1_000);
        now.addAndGet(100_000_000L);
        assertEquals(0, l.reserve(0));
        assertEquals(200_000, l.bytes());
    }

    @Test
    void idleTimeRefillsOnlyUpToTheBurst() {
        BandwidthLimiter l = BandwidthLimiter.of(1_000_000, 10_000, now::get);
        now.addAndGet(60_000_000_000L); // a minute idle
        assertEquals(0, l.reserve(10_000));
        assertTrue(l.reserve(10_000) >= 9_000_000L, "the minute did not bank more than the burst");
    }

    @Test
    void rateOverManyReservationsIsTheConfiguredOne() {
        BandwidthLimiter l = BandwidthLimiter.of(2_000_000, 64 * 1024, now::get);
        long wait = 0;
        for (int i = 0; i < 1000; i++) {
            wait = l.reserve(20_000); // 20 MB requested at once
        }
        // 20 MB at 2 MB/s: ~10 s, less the 64 KiB burst
        double seconds = wait / 1e9;
        assertEquals(10.0 - 65536 / 2e6, seconds, 0.001);
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> BandwidthLimiter.of(0));
        assertThrows(IllegalArgumentException.class, () -> BandwidthLimiter.of(-5));
        assertThrows(IllegalArgumentException.class, () -> BandwidthLimiter.of(1000, 0, now::get));
        assertThrows(IllegalArgumentException.class, () -> BandwidthLimiter.of(1000).reserve(-1));
    }
}
