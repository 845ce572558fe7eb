package io.layerswarm.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AwaitTest {

    @Test
    void returnsTheFirstAcceptedValue() throws Exception {
        AtomicInteger n = new AtomicInteger();
        assertEquals(3, Await.until(Duration.ofSeconds(10), "counter reaches 3", n::incrementAndGet, v -> v >= 3));
    }

    @Test
    void timesOutNamingTheConditionAndTheLastValue() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> Await.until(Duration.ofMillis(30), "the answer is 42", () -> 41, v -> v == 42));
        assertTrue(e.getMessage().contains("the answer is 42") && e.getMessage().contains("last value: 41"),
                e.getMessage());
        AssertionError b = assertThrows(AssertionError.class,
                () -> Await.until(Duration.ofMillis(30), "never", () -> false));
        assertTrue(b.getMessage().contains("waiting until never"), b.getMessage());
    }
}
