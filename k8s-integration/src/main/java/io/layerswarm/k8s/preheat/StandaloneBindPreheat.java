package io.layerswarm.k8s.preheat;

import io.layerswarm.k8s.extender.ExtenderBindingArgs;
import io.layerswarm.k8s.extender.PodBinder;
import io.layerswarm.k8s.extender.SeenPods;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bind verb of an extender without an API server ({@code scheduler-extender --no-kubernetes}): the
 * caller binds the pod itself, so this only records the decision and hands pod and node to the
 * {@link ReplicaPreheater}, as the Kubernetes bind hook does, with the pod's images taken from the
 * filter or prioritize call that scored it ({@link SeenPods}). The preheat runs in the background (the
 * preheater's window and I/O threads); the verb answers at once, and a pod whose images are not
 * remembered, whose node has no queued pod ahead of it (its pull starts at the bind: a preheat could only
 * duplicate it) or only pods whose pulls bring all its layers, or whose node's cache cannot hold them beside
 * its queued pods' layers ({@link PreheatRoom}), is bound without a preheat.
 */
public final class StandaloneBindPreheat implements PodBinder {
    private static final Logger LOG = LoggerFactory.getLogger(StandaloneBindPreheat.class);
    private final SeenPods seen;
    private final ReplicaPreheater preheater;
    private final PreheatRoom room;

    /**
     * @param seen the images of the pods the extender scored
     * @param preheater plans and sends the preheat
     */
    public StandaloneBindPreheat(SeenPods seen, ReplicaPreheater preheater) {
        this(seen, preheater, null);
    }

    /**
     * @param seen the images of the pods the extender scored
     * @param preheater plans and sends the preheat
     * @param room skips a preheat that brings nothing forward ({@link PreheatRoom#needless}) or that the node's
     *             cache cannot hold beside its queued pods' layers; {@code null} to preheat every bound pod
     */
    public StandaloneBindPreheat(SeenPods seen, ReplicaPreheater preheater, PreheatRoom room) {
        this.seen = seen;
        this.preheater = preheater;
        this.room = room;
    }

    @Override
    public void bind(ExtenderBindingArgs args) {
        LOG.info("event=bind_recorded pod={}/{} node={}", args.podNamespace(), args.podName(), args.node());
        preheat(args);
    }

    /**
     * Hands the bound pod's images and node to the preheater (what {@link #bind} does after recording).
     *
     * @return the node's preheat replies once they are in (logged as they come); empty at once when the
     *         pod's images are not remembered
     */
    public CompletableFuture<List<PreheatReply>> preheat(ExtenderBindingArgs args) {
        String pod = args.podNamespace() + "/" + args.podName();
        Optional<List<String>> images = seen.images(args.podNamespace(), args.podName());
        if (images.isEmpty() || images.get().isEmpty()) {
            LOG.info("event=preheat_skipped pod={} node={} reason=pod_not_seen", pod, args.node());
            return CompletableFuture.completedFuture(List.of());
        }
        Optional<String> needless = room == null ? Optional.empty() : room.needless(pod, images.get(), args.node());
        if (needless.isPresent()) {
            // the testbed measured it: preheats beside the pulls they duplicate made deployments slower, not faster
            LOG.info("event=preheat_skipped pod={} node={} reason={}", pod, args.node(), needless.get());
            return CompletableFuture.completedFuture(List.of());
        }
        if (room != null) {
            Optional<String> full = room.check(pod, images.get(), args.node());
            if (full.isPresent()) {
                LOG.info("event=preheat_skipped pod={} node={} reason=no_room detail=\"{}\"", pod, args.node(), full.get());
                return CompletableFuture.completedFuture(List.of());
            }
        }
        return preheater.preheat(images.get(), args.node()).thenApply(replies -> {
            logResults(pod, args.node(), replies);
            return replies;
        });
    }

    /** One {@code event=preheat_result} line per reply (shared with the Kubernetes bind hook). */
    public static void logResults(String pod, String node, List<PreheatReply> replies) {
        replies.forEach(r -> LOG.info(
                "event=preheat_result pod={} node={} status={} peer_bytes={} registry_bytes={} elapsed_ms={}{}", pod,
                node, r.status(), r.peerBytes(), r.registryBytes(), r.elapsedMillis(),
                r.message().isEmpty() ? "" : " reason=\"" + r.message() + "\""));
    }
}
