package io.layerswarm.libp2p.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The refusal log of {@link HandshakeLimiter}: one line per interval, which counts the refusals left out. */
class HandshakeLimiterTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void aFloodOfRefusalsGetsOneLinePerIntervalCountingWhatWasLeftOut() {
        HandshakeLimiter l = new HandshakeLimiter(1, 10);
        long t = 1_000 * SECOND;
        assertEquals(HandshakeLimiter.Admission.ADMITTED, l.admit("10.0.0.1"));
        assertEquals(HandshakeLimiter.Admission.ADDRESS_LIMIT, l.admit("10.0.0.1"));
        assertEquals(0, l.logRefusal(t, SECOND), "the first refusal is logged");
        for (int i = 1; i <= 500; i++) {
            assertEquals(-1, l.logRefusal(t + i * 1_000_000L, SECOND), "silent within the interval");
        }
        assertEquals(500, l.logRefusal(t + SECOND, SECOND), "the next line counts the 500 left out");
        assertEquals(-1, l.logRefusal(t + SECOND + 1, SECOND));
        assertEquals(1, l.logRefusal(t + 3 * SECOND, SECOND));
        assertEquals(0, l.logRefusal(t + 5 * SECOND, SECOND), "nothing left out since");
    }
}
