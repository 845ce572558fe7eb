package io.layerswarm.k8s.preheat;

import io.layerswarm.k8s.extender.SeenPods;
import io.layerswarm.k8s.scoring.LayerInfo;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.k8s.view.QueuedPods;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Whether a node's layer cache can take a bound pod's images beside the layers its other queued pods
 * (bound, not started: the one its kubelet pulls now and those waiting behind it) still need. A preheat
 * that does not fit evicts exactly those layers: on a small cache the preheat of the next pod's image
 * took the layers of the image the node's containerd was still pulling, which were then fetched again
 * (the testbed's 50 MB rows: more registry bytes and slower deployments with preheat than without). Such
 * a preheat is better left out: the pod's pull fetches the image when its turn comes, as without preheat.
 */
public final class PreheatRoom {
    private final SchedulingEngine engine;
    private final QueuedPods queued;
    private final SeenPods seen;

    /**
     * @param engine the cluster view (cache capacities) and the image resolver
     * @param queued pods bound and not started, per node
     * @param seen the images of the pods the extender scored (where a queued pod's images are found)
     */
    public PreheatRoom(SchedulingEngine engine, QueuedPods queued, SeenPods seen) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.queued = Objects.requireNonNull(queued, "queued");
        this.seen = Objects.requireNonNull(seen, "seen");
    }

    /**
     * Checks whether {@code node}'s cache holds {@code images} beside the layers of the node's other queued
     * pods. What cannot be judged (a node not in the view, an unbounded cache, images not resolved) fits: the
     * preheat then goes ahead as it did without this check.
     *
     * @param pod the bound pod, {@code namespace/name} (not counted among the queued ones)
     * @param images its images
     * @param node the node it was bound to
     * @return empty if it fits, else why not
     */
    public Optional<String> check(String pod, List<String> images, String node) {
        Optional<NodeStatus> status = engine.view().node(node);
        if (status.isEmpty() || status.get().capacityBytes() == Long.MAX_VALUE) {
            return Optional.empty();
        }
        PodLayers wanted = engine.resolve(images);
        if (!wanted.unresolved().isEmpty()) {
            return Optional.empty();
        }
        Map<String, Long> layers = new HashMap<>();
        wanted.distinctLayers().forEach(l -> layers.put(l.digest(), l.size()));
        long own = sum(layers);
        Queued ahead = queuedLayers(pod, node);
        layers.putAll(ahead.layers());
        long need = sum(layers);
        long capacity = status.get().capacityBytes();
        if (need <= capacity) {
            return Optional.empty();
        }
        return Optional.of("cache of " + capacity + " bytes cannot hold the pod's " + own + " bytes of layers beside"
                + " those of " + ahead.pods() + " queued pods (" + need + " bytes together)");
    }

    /**
     * Why a preheat of {@code pod} on {@code node} would bring nothing forward, if it would not:
     * {@code pull_starts_now} when no other pod is queued there (its kubelet pulls the images as soon as the
     * pod is bound, so a preheat would only run beside that pull: the same fetches, joined on the node, plus
     * the planning and a second pull's bookkeeping on the node's CPU), {@code queued_pods_bring_it} when the
     * pods queued ahead of it need every layer it needs (their pulls, which kubelet runs first, fetch them).
     * Empty when a preheat can help, or when the images are not resolved (then it goes ahead, as before).
     */
    public Optional<String> needless(String pod, List<String> images, String node) {
        if (queued.podsOn(node).stream().allMatch(pod::equals)) {
            return Optional.of("pull_starts_now");
        }
        PodLayers wanted = engine.resolve(images);
        if (!wanted.unresolved().isEmpty() || wanted.distinctLayers().isEmpty()) {
            return Optional.empty();
        }
        Map<String, Long> ahead = queuedLayers(pod, node).layers();
        return wanted.distinctLayers().stream().allMatch(l -> ahead.containsKey(l.digest()))
                ? Optional.of("queued_pods_bring_it") : Optional.empty();
    }

    /** The layers (digest to size) of the pods queued on {@code node} other than {@code pod}, and how many pods were known. */
    private Queued queuedLayers(String pod, String node) {
        Map<String, Long> layers = new HashMap<>();
        int pods = 0;
        for (String q : queued.podsOn(node)) {
            if (q.equals(pod)) {
                continue;
            }
            int slash = q.indexOf('/');
            Optional<List<String>> theirs = seen.images(q.substring(0, Math.max(slash, 0)), q.substring(slash + 1));
            if (theirs.isEmpty()) {
                continue; // scored before this extender started: nothing known about it
            }
            for (LayerInfo l : engine.resolve(theirs.get()).distinctLayers()) {
                layers.put(l.digest(), l.size());
            }
            pods++;
        }
        return new Queued(layers, pods);
    }

    private record Queued(Map<String, Long> layers, int pods) { }

    private static long sum(Map<String, Long> layers) {
        long s = 0;
        for (long v : layers.values()) {
            s += v;
        }
        return s;
    }
}
