package io.layerswarm.k8s.scoring;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.layerswarm.k8s.view.ClusterSnapshot;
import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.k8s.view.QueuedPods;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The scheduling mechanism: resolves a pod's images within a time budget, applies the cache-fit filter
 * and a {@link NodeScorer} policy over a {@link ClusterView}. It reports, never fails a cycle: an image
 * it cannot resolve in time is left out (and named in {@link PodLayers#unresolved()}), a node the view
 * does not know passes the filter and scores 0 (it can still pull from its registry).
 */
public final class SchedulingEngine {
    private final ClusterView view;
    private final LayerResolver resolver;
    private final NodeScorer scorer;
    private final CacheFitFilter filter = new CacheFitFilter();
    private final Duration resolveBudget;
    private final QueuedPods queued;
    /** The snapshot of the last call, reused while the view is unchanged ({@link ClusterSnapshot#reuse}). */
    private final java.util.concurrent.atomic.AtomicReference<ClusterSnapshot> lastSnapshot =
            new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * @param view the cluster view
     * @param resolver image to layers
     * @param scorer the scoring policy
     * @param resolveBudget how long one request may wait for image resolution in total (well under the
     *     scheduler's 5 s extender timeout)
     */
    public SchedulingEngine(ClusterView view, LayerResolver resolver, NodeScorer scorer, Duration resolveBudget) {
        this(view, resolver, scorer, resolveBudget, null);
    }

    /**
     * @param view the cluster view
     * @param resolver image to layers
     * @param scorer the scoring policy
     * @param resolveBudget how long one request may wait for image resolution in total
     * @param queued pods bound but not started per node, or {@code null} to score without them: a node with
     *     k of them gets its policy score divided by k + 1, since the pod would wait behind k pulls, and
     *     scores below the best candidate with none ({@link #queueAdjusted})
     */
    public SchedulingEngine(ClusterView view, LayerResolver resolver, NodeScorer scorer, Duration resolveBudget,
                            QueuedPods queued) {
        this.view = view;
        this.resolver = resolver;
        this.scorer = scorer;
        this.resolveBudget = resolveBudget;
        this.queued = queued;
    }

    /** The scoring policy. */
    public NodeScorer scorer() {
        return scorer;
    }

    /** The cluster view. */
    public ClusterView view() {
        return view;
    }

    /** The image references of the pod's init and regular containers, in order. */
    public static List<String> images(Pod pod) {
        List<String> out = new ArrayList<>();
        if (pod.getSpec() != null) {
            for (List<Container> cs : java.util.Arrays.asList(pod.getSpec().getInitContainers(), pod.getSpec().getContainers())) {
                if (cs != null) {
                    for (Container c : cs) {
                        if (c != null && c.getImage() != null && !c.getImage().isEmpty()) {
                            out.add(c.getImage());
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Resolves {@code images}, waiting at most the budget for all of them together. */
    public PodLayers resolve(List<String> images) {
        Map<String, CompletableFuture<ImageLayers>> futures = new LinkedHashMap<>();
        for (String image : images) {
            futures.computeIfAbsent(image, resolver::resolve);
        }
        long deadline = System.nanoTime() + resolveBudget.toNanos();
        List<ImageLayers> resolved = new ArrayList<>();
        Map<String, String> unresolved = new LinkedHashMap<>();
        for (String image : images) {
            CompletableFuture<ImageLayers> f = futures.get(image);
            try {
                resolved.add(f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (TimeoutException e) {
                unresolved.put(image, "not resolved within " + resolveBudget.toMillis() + " ms");
            } catch (ExecutionException e) {
                unresolved.put(image, String.valueOf(e.getCause() == null ? e : e.getCause().getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                unresolved.put(image, "interrupted");
            }
        }
        return new PodLayers(resolved, images.size(), unresolved);
    }

    /**
     * Filter outcome.
     *
     * @param passed nodes that may run the pod, in the order given
     * @param failed node to reason
     */
    public record FilterOutcome(List<String> passed, Map<String, String> failed) {
    }

    /** Applies the cache-fit filter. */
    public FilterOutcome filter(PodLayers pod, List<String> candidates) {
        List<String> passed = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        ClusterView snapshot = snapshot();
        // missing bytes from each layer's holders, not from every candidate asked about every layer
        HeldLayers held = HeldLayers.of(pod.distinctLayers(), snapshot, 1);
        for (String node : candidates) {
            Optional<NodeStatus> s = snapshot.node(node);
            Optional<String> reason = s.isEmpty() ? Optional.empty()
                    : filter.check(held.totalBytes() - held.heldBytes(node), s.get());
            if (reason.isPresent()) {
                failed.put(node, reason.get());
            } else {
                passed.add(node);
            }
        }
        return new FilterOutcome(passed, failed);
    }

    /** The view frozen for one call: the last call's snapshot while the view has not changed since. */
    private ClusterSnapshot snapshot() {
        ClusterSnapshot s = ClusterSnapshot.reuse(lastSnapshot.get(), view);
        lastSnapshot.set(s);
        return s;
    }

    /** Scores candidates with the policy, 0..10 each (unknown nodes 0). */
    public Map<String, Double> score(PodLayers pod, List<String> candidates) {
        if (pod.images().isEmpty()) {
            Map<String, Double> zero = new LinkedHashMap<>();
            candidates.forEach(c -> zero.put(c, 0.0));
            return zero;
        }
        Map<String, Double> raw = scorer.score(pod, candidates, snapshot());
        Map<String, Integer> waiting = queued == null ? Map.of() : queued.byNode();
        return queueAdjusted(candidates, raw, waiting);
    }

    /**
     * The policy's scores with the queued pods counted: a node with k queued pods gets its score divided
     * by k + 1 (the pod would wait behind k pulls), and while some candidate has none, a node with queued
     * pods is scored as if it held no more than the best idle candidate: the idle one fetches what it lacks
     * from the swarm (from that very node's cache, at cluster speed) while the pod starts, where the busy
     * node's locality only saves that transfer and costs whole pulls of waiting (on the testbed a 42 MB
     * image moves between workers in ~1 s, a pull took 4-12 s). Clamped to 0..10.
     */
    static Map<String, Double> queueAdjusted(List<String> candidates, Map<String, Double> raw,
                                             Map<String, Integer> waiting) {
        double bestIdle = Double.NaN;
        for (String c : candidates) {
            if (waiting.getOrDefault(c, 0) == 0) {
                double r = raw.getOrDefault(c, 0.0);
                bestIdle = Double.isNaN(bestIdle) ? r : Math.max(bestIdle, r);
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (String c : candidates) {
            int k = waiting.getOrDefault(c, 0);
            double r = raw.getOrDefault(c, 0.0);
            if (k > 0 && !Double.isNaN(bestIdle)) {
                r = Math.min(r, bestIdle);
            }
            double v = r / (1 + k);
            out.put(c, Double.isFinite(v) ? Math.max(0, Math.min(NodeScorer.MAX, v)) : 0.0);
        }
        return out;
    }
}
