package io.layerswarm.k8s.view;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pods bound to a node that have not started yet. kubelet pulls one image at a time, so a pod bound to
 * that node now waits behind them, and the nodes' status records cannot show them (a record is up to a
 * publishing period old, and a bound pod's layers arrive only after its pull): without this a burst of
 * pods piles onto the one node that holds the layers. Fed by the extender's own binds at once and by the
 * API server's pod events (a pod leaves when it runs, ends or is deleted); an entry older than {@code
 * maxAge} leaves too, so a start that is never seen does not hold a node down.
 */
public final class QueuedPods {
    private final Clock clock;
    private final Duration maxAge;
    private final Map<String, Entry> byPod = new ConcurrentHashMap<>();

    private record Entry(String node, Instant since) {
    }

    /**
     * @param clock time source
     * @param maxAge longest a pod counts as queued without a start being seen
     */
    public QueuedPods(Clock clock, Duration maxAge) {
        if (maxAge.isNegative() || maxAge.isZero()) {
            throw new IllegalArgumentException("maxAge must be positive: " + maxAge);
        }
        this.clock = Objects.requireNonNull(clock, "clock");
        this.maxAge = maxAge;
    }

    /** {@code pod} (namespace/name) was bound to {@code node} and has not started; a repeat keeps its first time. */
    public void bound(String pod, String node) {
        byPod.compute(pod, (k, old) -> old != null && old.node().equals(node) ? old : new Entry(node, clock.instant()));
    }

    /**
     * {@code pod} runs, has ended or is gone: it no longer holds its node's queue.
     *
     * @return whether it was queued
     */
    public boolean started(String pod) {
        return byPod.remove(pod) != null;
    }

    /**
     * The pods ({@code namespace/name}) bound to {@code node} that have not started, within {@code maxAge}:
     * what the node's kubelet is still pulling or will pull next.
     */
    public List<String> podsOn(String node) {
        Instant oldest = clock.instant().minus(maxAge);
        List<String> out = new ArrayList<>();
        byPod.forEach((pod, e) -> {
            if (e.node().equals(node) && !e.since().isBefore(oldest)) {
                out.add(pod);
            }
        });
        Collections.sort(out);
        return out;
    }

    /** Per node, the pods bound to it that have not started, within {@code maxAge}; nodes without any left out. */
    public Map<String, Integer> byNode() {
        Instant oldest = clock.instant().minus(maxAge);
        byPod.values().removeIf(e -> e.since().isBefore(oldest));
        Map<String, Integer> out = new HashMap<>();
        for (Entry e : byPod.values()) {
            out.merge(e.node(), 1, Integer::sum);
        }
        return out;
    }
}
