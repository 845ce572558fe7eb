package io.layerswarm.k8s.kube;

import io.fabric8.kubernetes.api.model.Binding;
import io.fabric8.kubernetes.api.model.BindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.layerswarm.k8s.extender.ExtenderBindingArgs;
import io.layerswarm.k8s.extender.PodBinder;
import java.util.function.Consumer;

/**
 * Binds through the Kubernetes API: {@code POST /api/v1/namespaces/NS/pods/NAME/binding} (the
 * {@code pods/binding} subresource kube-scheduler itself uses), then hands the decision to a listener
 * (the transfer orchestrator).
 */
public final class KubernetesPodBinder implements PodBinder {
    private final KubernetesClient client;
    private final Consumer<ExtenderBindingArgs> onBound;

    /**
     * @param client the API client
     * @param onBound called after a successful binding
     */
    public KubernetesPodBinder(KubernetesClient client, Consumer<ExtenderBindingArgs> onBound) {
        this.client = client;
        this.onBound = onBound;
    }

    @Override
    public void bind(ExtenderBindingArgs args) {
        Binding binding = new BindingBuilder()
                .withNewMetadata().withName(args.podName()).withNamespace(args.podNamespace())
                .withUid(args.podUID() == null || args.podUID().isEmpty() ? null : args.podUID()).endMetadata()
                .withNewTarget().withApiVersion("v1").withKind("Node").withName(args.node()).endTarget()
                .build();
        String path = "/api/v1/namespaces/" + args.podNamespace() + "/pods/" + args.podName() + "/binding";
        try {
            client.raw(client.getMasterUrl().toString().replaceAll("/$", "") + path, "POST", binding);
        } catch (KubernetesClientException e) {
            throw new IllegalStateException("API server refused the binding (" + e.getCode() + "): " + e.getMessage(), e);
        }
        onBound.accept(args);
    }
}
