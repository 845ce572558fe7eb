package io.layerswarm.k8s.extender;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeList;
import io.fabric8.kubernetes.api.model.NodeListBuilder;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import io.layerswarm.k8s.view.QueuedPods;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The extender's verbs, independent of HTTP: filter and prioritize over the {@link SchedulingEngine},
 * bind through a {@link PodBinder}. Answers keep the request's mode (full Nodes or NodeNames).
 */
public final class ExtenderService {
    private static final Logger LOG = LoggerFactory.getLogger(ExtenderService.class);
    private final SchedulingEngine engine;
    private final PodBinder binder;
    private final QueuedPods queued;
    private final SeenPods seen;

    /**
     * @param engine scoring mechanism and policy
     * @param binder binds pods to nodes and hands the decision on
     */
    public ExtenderService(SchedulingEngine engine, PodBinder binder) {
        this(engine, binder, null);
    }

    /**
     * @param engine scoring mechanism and policy
     * @param binder binds pods to nodes and hands the decision on
     * @param queued told of every successful bind at once (the engine's queued pods), or {@code null}
     */
    public ExtenderService(SchedulingEngine engine, PodBinder binder, QueuedPods queued) {
        this(engine, binder, queued, null);
    }

    /**
     * @param engine scoring mechanism and policy
     * @param binder binds pods to nodes and hands the decision on
     * @param queued told of every successful bind at once (the engine's queued pods), or {@code null}
     * @param seen told of every pod filtered or prioritized (where a bind without an API server finds its
     *             images), or {@code null}
     */
    public ExtenderService(SchedulingEngine engine, PodBinder binder, QueuedPods queued, SeenPods seen) {
        this.engine = engine;
        this.binder = binder;
        this.queued = queued;
        this.seen = seen;
    }

    /** The {@code filter} verb. */
    public ExtenderFilterResult filter(ExtenderArgs args) {
        remember(args);
        List<String> candidates = args.candidateNames();
        PodLayers pod = engine.resolve(SchedulingEngine.images(args.pod()));
        logUnresolved(args, pod);
        SchedulingEngine.FilterOutcome out = engine.filter(pod, candidates);
        if (args.nodeCacheCapable()) {
            return new ExtenderFilterResult(null, out.passed(), out.failed(), Map.of(), "");
        }
        List<Node> items = new ArrayList<>();
        for (String name : out.passed()) {
            items.add(args.node(name));
        }
        NodeList list = new NodeListBuilder().withItems(items).build();
        if (args.nodes().getMetadata() != null) {
            list.setMetadata(args.nodes().getMetadata());
        }
        return new ExtenderFilterResult(list, null, out.failed(), Map.of(), "");
    }

    /** The {@code prioritize} verb: 0..10 per candidate, in the order given. */
    public HostPriorityList prioritize(ExtenderArgs args) {
        remember(args);
        List<String> candidates = args.candidateNames();
        PodLayers pod = engine.resolve(SchedulingEngine.images(args.pod()));
        logUnresolved(args, pod);
        Map<String, Double> scores = engine.score(pod, candidates);
        List<HostPriority> out = new ArrayList<>(candidates.size());
        for (String c : candidates) {
            out.add(new HostPriority(c, Math.round(scores.getOrDefault(c, 0.0))));
        }
        return new HostPriorityList(out);
    }

    /** The {@code bind} verb; a failure travels in {@code Error}, as the protocol expects. */
    public ExtenderBindingResult bind(ExtenderBindingArgs args) {
        args.validated();
        try {
            binder.bind(args);
            if (queued != null) {
                queued.bound(args.podNamespace() + "/" + args.podName(), args.node());
            }
            LOG.info("event=pod_bound pod={}/{} node={}", args.podNamespace(), args.podName(), args.node());
            return ExtenderBindingResult.ok();
        } catch (RuntimeException e) {
            LOG.warn("event=bind_failed pod={}/{} node={} reason=\"{}\"", args.podNamespace(), args.podName(),
                    args.node(), e.getMessage());
            return new ExtenderBindingResult("bind " + args.podNamespace() + "/" + args.podName() + " to "
                    + args.node() + ": " + e.getMessage());
        }
    }

    /**
     * The {@code started} verb, LayerSwarm's own (kube-scheduler has none): a caller that runs pods without an
     * API server ({@code --no-kubernetes}) says that a pod it bound has started, so the pod no longer counts
     * as queued on its node (with an API server the pod watch does this). The body is an
     * {@code ExtenderBindingArgs} whose {@code Node} may be empty; a pod that was not queued is answered OK too
     * (a start can race the queued pod's age limit).
     */
    public ExtenderBindingResult started(ExtenderBindingArgs args) {
        if (args.podName() == null || args.podName().isEmpty() || args.podNamespace() == null
                || args.podNamespace().isEmpty()) {
            throw new ExtenderRequestException("started needs PodName and PodNamespace");
        }
        boolean was = queued != null && queued.started(args.podNamespace() + "/" + args.podName());
        LOG.info("event=pod_started pod={}/{} was_queued={}", args.podNamespace(), args.podName(), was);
        return ExtenderBindingResult.ok();
    }

    private void remember(ExtenderArgs args) {
        if (seen != null) {
            seen.seen(args.pod());
        }
    }

    private static void logUnresolved(ExtenderArgs args, PodLayers pod) {
        pod.unresolved().forEach((image, reason) -> LOG.info("event=image_unresolved pod={}/{} image={} reason=\"{}\"",
                args.pod().getMetadata() == null ? "" : args.pod().getMetadata().getNamespace(),
                args.pod().getMetadata() == null ? "" : args.pod().getMetadata().getName(), image, reason));
    }
}
