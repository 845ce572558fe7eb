package io.layerswarm.k8s.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Binding;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.layerswarm.k8s.extender.ExtenderBindingArgs;
import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.k8s.view.QueuedPods;
import io.layerswarm.testing.Await;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** fabric8's mock API server in CRUD mode stands in for Kubernetes. */
@EnableKubernetesMockClient(crud = true)
class KubernetesMockServerTest {
    static KubernetesClient client;
    static KubernetesMockServer server;

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @Test
    void bindCreatesTheBindingAndHandsTheDecisionOn() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> received = new java.util.concurrent.atomic.AtomicReference<>();
        // The CRUD dispatcher cannot store the pods/binding subresource (its path parser fails on it), so
        // this one call is answered by an expectation, as the API server answers it: 201 and the Binding.
        server.expect().post().withPath("/api/v1/namespaces/shop/pods/web/binding")
                .andReply(201, r -> {
                    received.set(r.getPath() + " " + r.getBody().readUtf8());
                    return received.get().substring(received.get().indexOf(' ') + 1);
                }).once();
        List<ExtenderBindingArgs> handed = new CopyOnWriteArrayList<>();
        KubernetesPodBinder binder = new KubernetesPodBinder(client, handed::add);
        ExtenderBindingArgs args = new ExtenderBindingArgs("web", "shop", "u1", "edge-a");
        binder.bind(args);
        assertEquals(List.of(args), handed);
        assertEquals("POST", server.getLastRequest().getMethod());
        assertTrue(received.get().startsWith("/api/v1/namespaces/shop/pods/web/binding "), received.get());
        String body = received.get().substring(received.get().indexOf(' ') + 1);
        assertTrue(body.contains("\"kind\":\"Binding\"") && body.contains("\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"edge-a\"}"), body);
        Binding sent = client.getKubernetesSerialization().unmarshal(body, Binding.class);
        assertEquals("edge-a", sent.getTarget().getName());
        assertEquals("u1", sent.getMetadata().getUid());
        assertEquals("web", sent.getMetadata().getName());
    }

    @Test
    void watchedNodesAndPodsReachTheView() throws Exception {
        MutableClusterView swarm = new MutableClusterView();
        for (String n : List.of("edge-a", "edge-b")) {
            swarm.put(new NodeStatus(n, Map.of(), 100, 100, 0, Map.of(), Map.of()));
        }
        List<PodPlacement> placed = new CopyOnWriteArrayList<>();
        QueuedPods queued = new QueuedPods(Clock.systemUTC(), Duration.ofMinutes(5));
        try (KubernetesClusterWatch watch = new KubernetesClusterWatch(client, swarm, placed::add, queued).start()) {
            assertTrue(watch.nodes().isEmpty(), "nodes the API server does not list are not scheduled onto");
            client.nodes().resource(new NodeBuilder().withNewMetadata().withName("edge-a").endMetadata()
                    .withNewStatus().addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build()).create();
            client.nodes().resource(new NodeBuilder().withNewMetadata().withName("edge-b").endMetadata()
                    .withNewStatus().addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build()).create();
            Await.until(PATIENCE, "both nodes in the view", () -> watch.nodes().size() == 2);

            client.nodes().withName("edge-b").edit(n -> new NodeBuilder(n).editStatus().editFirstCondition()
                    .withStatus("False").endCondition().endStatus().build());
            Await.until(PATIENCE, "NotReady edge-b hidden", () -> watch.node("edge-b").isEmpty());
            assertTrue(watch.node("edge-a").isPresent());
            client.nodes().withName("edge-a").delete();
            Await.until(PATIENCE, "deleted edge-a gone", () -> watch.nodes().isEmpty());

            client.pods().inNamespace("shop").resource(new PodBuilder().withNewMetadata().withName("api").withNamespace("shop")
                    .withUid("u2").endMetadata().withNewSpec().withNodeName("edge-b")
                    .addNewInitContainer().withName("i").withImage("r/init:1").endInitContainer()
                    .addNewContainer().withName("c").withImage("r/api:2").endContainer().endSpec().build()).create();
            Await.until(PATIENCE, "pod placement reported", () -> !placed.isEmpty());
            String uid = client.pods().inNamespace("shop").withName("api").get().getMetadata().getUid();
            assertEquals(new PodPlacement("shop", "api", uid, "edge-b", List.of("r/init:1", "r/api:2")), placed.get(0));
            Await.until(PATIENCE, "the bound pod, not running yet, is queued on edge-b",
                    () -> queued.byNode().equals(Map.of("edge-b", 1)));
            client.pods().inNamespace("shop").withName("api").edit(p -> new PodBuilder(p).withNewStatus().withPhase("Running")
                    .endStatus().build());
            Await.until(PATIENCE, "the running pod is no longer queued", () -> queued.byNode().isEmpty());
            client.pods().inNamespace("shop").withName("api").edit(p -> new PodBuilder(p).editMetadata()
                    .addToLabels("touched", "yes").endMetadata().build());
            client.pods().inNamespace("shop").resource(new PodBuilder().withNewMetadata().withName("later").withNamespace("shop")
                    .endMetadata().withNewSpec().withNodeName("edge-a").addNewContainer().withName("c").withImage("r/x:1")
                    .endContainer().endSpec().build()).create();
            Await.until(PATIENCE, "second pod reported", () -> placed.size() == 2);
            assertEquals("later", placed.get(1).name(), "an update of an already placed pod is not reported again");
        }
    }

    @Test
    void aRefusedBindingIsAnError() {
        KubernetesPodBinder binder = new KubernetesPodBinder(client, a -> {
            throw new AssertionError("a refused binding must not reach the orchestrator");
        });
        ExtenderBindingArgs ghost = new ExtenderBindingArgs("ghost", "other", "", "edge-a");
        server.expect().post().withPath("/api/v1/namespaces/other/pods/ghost/binding").andReturn(409, "{\"kind\":\"Status\",\"message\":\"already bound\"}").always();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> binder.bind(ghost));
        assertTrue(e.getMessage().contains("(409)"), e.getMessage());
    }
}
