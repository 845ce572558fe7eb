package io.layerswarm.k8s.preheat;

import io.layerswarm.k8s.orchestrator.TransferPlan;
import io.layerswarm.k8s.orchestrator.TransferPlanner;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The orchestrator's answer to bind: preheats a pod's images on the node it was bound to, planning the
 * replicas of one image together. kube-scheduler binds the replicas of a Deployment one by one, a few
 * milliseconds apart, so a bind opens a short window in which later binds of the same image list join
 * it; when it closes, all those nodes are planned at once ({@link TransferPlanner}: each layer no peer
 * holds comes from the registry once, the other targets copy it) and told together, each naming the
 * others as co-fetchers ({@link PlanRequests}). A bind that comes after the window, while its siblings
 * still fetch, is planned with them as arriving holders, so it copies from them too.
 */
public final class ReplicaPreheater {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaPreheater.class);
    private final SchedulingEngine engine;
    private final TransferPlanner planner;
    private final PreheatClient client;
    private final PeerDirectory peers;
    private final PlanRequests requests;
    private final Duration window;
    private final ScheduledExecutorService timer;
    private final Executor io;
    /** Guarded by this: per image list, the batch still collecting binds. */
    private final Map<List<String>, Map<String, CompletableFuture<List<PreheatReply>>>> open = new HashMap<>();
    /** Guarded by this: per image list, the nodes whose batch has closed and whose preheat has not answered yet. */
    private final Map<List<String>, Set<String>> inFlight = new HashMap<>();

    /**
     * @param engine resolves images (with a budget fit for planning, not for the scheduler's 5 s) and has the view
     * @param planner plans the transfers
     * @param client sends the plan
     * @param peers node name to peer id
     * @param requests turns a plan into per-node requests
     * @param window how long a bind waits for the binds of its sibling replicas
     * @param timer closes windows
     * @param io resolves and plans (may block on the registry)
     */
    public ReplicaPreheater(SchedulingEngine engine, TransferPlanner planner, PreheatClient client, PeerDirectory peers,
                            PlanRequests requests, Duration window, ScheduledExecutorService timer, Executor io) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.planner = Objects.requireNonNull(planner, "planner");
        this.client = Objects.requireNonNull(client, "client");
        this.peers = Objects.requireNonNull(peers, "peers");
        this.requests = Objects.requireNonNull(requests, "requests");
        if (window.isNegative()) {
            throw new IllegalArgumentException("window must not be negative: " + window);
        }
        this.window = window;
        this.timer = Objects.requireNonNull(timer, "timer");
        this.io = Objects.requireNonNull(io, "io");
    }

    /**
     * Preheats {@code images} on {@code node}, together with the other nodes the same image list is bound
     * to within the window. Never fails: a node that cannot be preheated gets an error reply.
     *
     * @param images the pod's container images, init containers first
     * @param node the node it was bound to
     * @return the node's replies, one per image it had to fetch (empty if it held everything)
     */
    public CompletableFuture<List<PreheatReply>> preheat(List<String> images, String node) {
        List<String> key = List.copyOf(images);
        synchronized (this) {
            Map<String, CompletableFuture<List<PreheatReply>>> batch = open.get(key);
            if (batch == null) {
                batch = new LinkedHashMap<>();
                open.put(key, batch);
                timer.schedule(() -> io.execute(() -> flush(key)), window.toMillis(), TimeUnit.MILLISECONDS);
            }
            return batch.computeIfAbsent(node, n -> new CompletableFuture<>());
        }
    }

    /** Closes the window of {@code key}: plans its nodes together and sends the plan. */
    private void flush(List<String> key) {
        Map<String, CompletableFuture<List<PreheatReply>>> batch;
        Set<String> arriving;
        synchronized (this) {
            batch = open.remove(key);
            arriving = Set.copyOf(inFlight.getOrDefault(key, Set.of()));
            // Claimed now, not once planned: a later batch of the image that closes while this one still
            // resolves must see these nodes as arriving, or both plans take the image from the registry.
            inFlight.computeIfAbsent(key, k -> new HashSet<>()).addAll(batch.keySet());
        }
        try {
            PodLayers pod = engine.resolve(key);
            if (!pod.unresolved().isEmpty()) {
                release(key, batch.keySet());
                failAll(batch, "images not resolved: " + pod.unresolved());
                return;
            }
            List<String> targets = new ArrayList<>();
            for (Map.Entry<String, CompletableFuture<List<PreheatReply>>> e : batch.entrySet()) {
                if (engine.view().node(e.getKey()).isPresent()) {
                    targets.add(e.getKey());
                } else {
                    release(key, Set.of(e.getKey()));
                    LOG.info("event=preheat_skipped node={} reason=not_in_view", e.getKey());
                    e.getValue().complete(List.of(PreheatReply.error("node " + e.getKey() + " is not in the cluster view")));
                }
            }
            if (targets.isEmpty()) {
                return;
            }
            TransferPlan plan = planner.plan(pod, targets, engine.view(), arriving);
            LOG.info("event=preheat_planned images={} nodes={} arriving={} transfers={} registry_bytes={}", key, targets,
                    arriving, plan.transfers().size(), plan.registryBytes());
            client.execute(plan, pod, requests, peers).whenComplete((replies, e) -> {
                release(key, targets);
                for (String t : targets) {
                    CompletableFuture<List<PreheatReply>> f = batch.get(t);
                    if (e != null) {
                        f.complete(List.of(PreheatReply.error("preheat failed: " + e)));
                    } else {
                        f.complete(replies.getOrDefault(t, List.of()));
                    }
                }
            });
        } catch (RuntimeException e) {
            release(key, batch.keySet());
            LOG.warn("event=preheat_plan_failed images={} nodes={} reason=\"{}\"", key, batch.keySet(), e.toString());
            failAll(batch, "planning failed: " + e.getMessage());
        }
    }

    /** {@code nodes} no longer fetch {@code key} for this preheater. */
    private synchronized void release(List<String> key, Collection<String> nodes) {
        Set<String> running = inFlight.get(key);
        if (running != null) {
            running.removeAll(nodes);
            if (running.isEmpty()) {
                inFlight.remove(key);
            }
        }
    }

    private static void failAll(Map<String, CompletableFuture<List<PreheatReply>>> batch, String why) {
        batch.values().forEach(f -> f.complete(List.of(PreheatReply.error(why))));
    }
}
