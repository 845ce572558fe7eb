package io.layerswarm.k8s.kube;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.k8s.view.QueuedPods;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches nodes and pods through the API server and applies them to the swarm-fed view: a node the API
 * server does not list, or lists as not Ready, is hidden from scheduling; a pod that gets a node is
 * reported once to a listener (the orchestrator preheats the rest of the image's replicas from it).
 * This is also a {@link ClusterView}: the base view filtered by what Kubernetes says exists.
 */
public final class KubernetesClusterWatch implements ClusterView, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesClusterWatch.class);
    private final KubernetesClient client;
    private final ClusterView base;
    private final Consumer<PodPlacement> onPlaced;
    private final QueuedPods queued;
    private final Map<String, Boolean> ready = new ConcurrentHashMap<>();
    private final Map<String, String> placedPods = new ConcurrentHashMap<>();
    /** Bumped after a node's schedulability changes (part of {@link #version()}). */
    private final java.util.concurrent.atomic.AtomicLong readyChanges = new java.util.concurrent.atomic.AtomicLong();
    private SharedIndexInformer<Node> nodes;
    private SharedIndexInformer<Pod> pods;

    /**
     * @param client API client
     * @param base the swarm-fed view
     * @param onPlaced called once per pod when it is first seen on a node
     */
    public KubernetesClusterWatch(KubernetesClient client, ClusterView base, Consumer<PodPlacement> onPlaced) {
        this(client, base, onPlaced, null);
    }

    /**
     * @param client API client
     * @param base the swarm-fed view
     * @param onPlaced called once per pod when it is first seen on a node
     * @param queued told which pods are bound but still Pending, and which run, ended or went; or {@code null}
     */
    public KubernetesClusterWatch(KubernetesClient client, ClusterView base, Consumer<PodPlacement> onPlaced,
                                  QueuedPods queued) {
        this.client = client;
        this.base = base;
        this.onPlaced = onPlaced;
        this.queued = queued;
    }

    /** Starts the informers (they list, then watch, and re-list on their own after a dropped watch). */
    public KubernetesClusterWatch start() {
        nodes = client.nodes().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Node n) {
                nodeSeen(n);
            }

            @Override
            public void onUpdate(Node old, Node n) {
                nodeSeen(n);
            }

            @Override
            public void onDelete(Node n, boolean unknownFinalState) {
                ready.remove(n.getMetadata().getName());
                readyChanges.incrementAndGet();
                LOG.info("event=k8s_node_deleted node={}", n.getMetadata().getName());
            }
        });
        pods = client.pods().inAnyNamespace().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod p) {
                podSeen(p);
            }

            @Override
            public void onUpdate(Pod old, Pod p) {
                podSeen(p);
            }

            @Override
            public void onDelete(Pod p, boolean unknownFinalState) {
                if (p.getMetadata() != null) {
                    placedPods.remove(key(p));
                    if (queued != null) {
                        queued.started(key(p));
                    }
                }
            }
        });
        return this;
    }

    private void nodeSeen(Node n) {
        String name = n.getMetadata().getName();
        boolean isReady = true;
        if (n.getStatus() != null && n.getStatus().getConditions() != null) {
            for (NodeCondition c : n.getStatus().getConditions()) {
                if ("Ready".equals(c.getType())) {
                    isReady = "True".equals(c.getStatus());
                }
            }
        }
        Boolean before = ready.put(name, isReady);
        if (before == null || before != isReady) {
            readyChanges.incrementAndGet();
            LOG.info("event=k8s_node node={} ready={}", name, isReady);
        }
    }

    private void podSeen(Pod p) {
        if (p.getMetadata() == null || p.getSpec() == null || p.getSpec().getNodeName() == null) {
            return;
        }
        String node = p.getSpec().getNodeName();
        if (queued != null) {
            String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
            if (phase == null || "Pending".equals(phase)) {
                queued.bound(key(p), node);
            } else {
                queued.started(key(p));
            }
        }
        if (node.equals(placedPods.put(key(p), node))) {
            return;
        }
        onPlaced.accept(new PodPlacement(p.getMetadata().getNamespace(), p.getMetadata().getName(),
                p.getMetadata().getUid(), node, SchedulingEngine.images(p)));
    }

    private static String key(Pod p) {
        return p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
    }

    /** Whether the API server lists the node as Ready. */
    public boolean schedulable(String nodeName) {
        return Boolean.TRUE.equals(ready.get(nodeName));
    }

    @Override
    public Optional<NodeStatus> node(String nodeName) {
        return schedulable(nodeName) ? base.node(nodeName) : Optional.empty();
    }

    @Override
    public Collection<NodeStatus> nodes() {
        return base.nodes().stream().filter(s -> schedulable(s.nodeName())).toList();
    }

    /** The base view's version plus this watch's schedulability changes; -1 if the base tracks none. */
    @Override
    public long version() {
        long base = this.base.version();
        return base < 0 ? -1 : base + readyChanges.get();
    }

    @Override
    public void close() {
        for (SharedIndexInformer<?> i : List.of(nodes, pods)) {
            if (i != null) {
                i.close();
            }
        }
    }
}
