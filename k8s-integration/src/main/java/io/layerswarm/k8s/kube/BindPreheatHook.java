package io.layerswarm.k8s.kube;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.layerswarm.k8s.extender.ExtenderBindingArgs;
import io.layerswarm.k8s.preheat.ReplicaPreheater;
import io.layerswarm.k8s.preheat.StandaloneBindPreheat;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link KubernetesPodBinder} calls after a binding: reads the pod's images from the API server and
 * hands pod and node to the {@link ReplicaPreheater}, off the bind verb's thread (the scheduler waits for
 * the verb; the preheat is best effort and the kubelet's pull works without it). Results are logged.
 */
public final class BindPreheatHook implements Consumer<ExtenderBindingArgs> {
    private static final Logger LOG = LoggerFactory.getLogger(BindPreheatHook.class);
    private final KubernetesClient client;
    private final ReplicaPreheater preheater;
    private final Executor io;

    /**
     * @param client reads the bound pod
     * @param preheater plans and sends the preheat
     * @param io runs the pod lookup
     */
    public BindPreheatHook(KubernetesClient client, ReplicaPreheater preheater, Executor io) {
        this.client = client;
        this.preheater = preheater;
        this.io = io;
    }

    @Override
    public void accept(ExtenderBindingArgs args) {
        io.execute(() -> preheat(args));
    }

    private void preheat(ExtenderBindingArgs args) {
        String pod = args.podNamespace() + "/" + args.podName();
        try {
            Pod p = client.pods().inNamespace(args.podNamespace()).withName(args.podName()).get();
            if (p == null) {
                LOG.info("event=preheat_skipped pod={} node={} reason=pod_not_found", pod, args.node());
                return;
            }
            List<String> images = SchedulingEngine.images(p);
            preheater.preheat(images, args.node())
                    .thenAccept(replies -> StandaloneBindPreheat.logResults(pod, args.node(), replies));
        } catch (RuntimeException e) {
            LOG.warn("event=preheat_plan_failed pod={} node={} reason=\"{}\"", pod, args.node(), e.toString());
        }
    }
}
