package io.layerswarm.k8s.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerswarm.k8s.extender.ExtenderBindingArgs;
import io.layerswarm.k8s.extender.ExtenderService;
import io.layerswarm.k8s.scoring.LayerLocalityScorer;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import io.layerswarm.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class QueuedPodsTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final QueuedPods queued = new QueuedPods(clock, Duration.ofMinutes(5));

    @Test
    void boundPodsCountOnTheirNodeUntilTheyStart() {
        queued.bound("shop/web-1", "a");
        queued.bound("shop/web-2", "a");
        queued.bound("shop/web-3", "b");
        queued.bound("shop/web-1", "a"); // the watch repeats what the bind said
        assertEquals(Map.of("a", 2, "b", 1), queued.byNode());
        queued.started("shop/web-1");
        queued.started("shop/never-bound");
        assertEquals(Map.of("a", 1, "b", 1), queued.byNode());
        queued.bound("shop/web-2", "b"); // bound elsewhere after all
        assertEquals(Map.of("b", 2), queued.byNode());
    }

    @Test
    void aPodWhoseStartIsNeverSeenLeavesAfterTheMaxAge() {
        queued.bound("shop/web-1", "a");
        clock.advance(Duration.ofMinutes(4));
        queued.bound("shop/web-2", "a");
        queued.bound("shop/web-1", "a"); // a repeat does not make it younger
        clock.advance(Duration.ofMinutes(1).plusSeconds(1));
        assertEquals(Map.of("a", 1), queued.byNode());
        clock.advance(Duration.ofMinutes(4));
        assertEquals(Map.of(), queued.byNode());
        assertThrows(IllegalArgumentException.class, () -> new QueuedPods(clock, Duration.ZERO));
    }

    @Test
    void aSuccessfulBindQueuesThePodAtOnceAFailedOneDoesNot() {
        SchedulingEngine engine = new SchedulingEngine(new MutableClusterView(), i -> new CompletableFuture<>(),
                new LayerLocalityScorer(), Duration.ofMillis(10), queued);
        new ExtenderService(engine, a -> { }, queued).bind(new ExtenderBindingArgs("web-1", "shop", "u1", "a"));
        new ExtenderService(engine, a -> {
            throw new IllegalStateException("409 already bound");
        }, queued).bind(new ExtenderBindingArgs("web-2", "shop", "u2", "b"));
        assertEquals(Map.of("a", 1), queued.byNode());
    }
}
