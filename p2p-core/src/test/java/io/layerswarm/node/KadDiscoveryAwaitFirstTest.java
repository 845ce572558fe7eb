package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Provider dials: a fetch waits for the first provider that connects, not for every dial. A dial to a
 * frozen provider never completes here; the deadline is far beyond the test's timeout, so waiting for
 * it would fail the test instead of returning.
 */
class KadDiscoveryAwaitFirstTest {
    private static final long FAR = TimeUnit.MINUTES.toNanos(30);

    @Test
    void returnsOnceOneDialSucceedsWhileAnotherHangs() throws Exception {
        CompletableFuture<Void> frozen = new CompletableFuture<>();
        CompletableFuture<Void> live = new CompletableFuture<>();
        CompletableFuture<Boolean> waited = CompletableFuture.supplyAsync(() -> {
            try {
                return KadDiscovery.awaitFirst(List.of(frozen, live), System.nanoTime() + FAR);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertFalse(waited.isDone() && waited.join(), "nothing connected yet");
        live.complete(null);
        assertTrue(waited.get(60, TimeUnit.SECONDS), "the live provider is enough");
        assertFalse(frozen.isDone(), "the frozen dial is left running, not cancelled");
    }

    @Test
    void returnsFalseOnceEveryDialFailedAndAtTheDeadline() throws Exception {
        CompletableFuture<Void> refused = CompletableFuture.failedFuture(new IOException("connection refused"));
        CompletableFuture<Void> reset = CompletableFuture.failedFuture(new IOException("connection reset"));
        assertFalse(KadDiscovery.awaitFirst(List.of(refused, reset), System.nanoTime() + FAR));
        assertFalse(KadDiscovery.awaitFirst(List.of(), System.nanoTime() + FAR));
        assertFalse(KadDiscovery.awaitFirst(List.of(new CompletableFuture<Void>()), System.nanoTime()),
                "a hanging dial costs no more than the deadline");
    }
}
