package io.layerswarm.k8s.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The manifests in samples/k8s parse as Kubernetes objects and agree with the extender's defaults. */
class SampleManifestsTest {
    private static final Path DIR = Path.of("..", "samples", "k8s");
    private final KubernetesSerialization yaml = new KubernetesSerialization();

    private List<HasMetadata> load(String file) throws Exception {
        try (InputStream in = Files.newInputStream(DIR.resolve(file))) {
            Object o = yaml.unmarshal(in);
            return o instanceof List<?> l ? l.stream().map(HasMetadata.class::cast).collect(Collectors.toList())
                    : List.of((HasMetadata) o);
        }
    }

    private JsonNode extender(String text) throws Exception {
        JsonNode conf = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(text);
        assertEquals("kubescheduler.config.k8s.io/v1", conf.get("apiVersion").asText());
        assertEquals("KubeSchedulerConfiguration", conf.get("kind").asText());
        return conf.get("extenders").get(0);
    }

    @Test
    void schedulerConfigurationNamesTheExtenderVerbs() throws Exception {
        String text = Files.readString(DIR.resolve("scheduler-config.yaml"));
        JsonNode e = extender(text);
        assertTrue(e.get("urlPrefix").asText().endsWith(":8888/layerswarm"), "matches --listen and --url-prefix defaults");
        assertEquals("filter", e.get("filterVerb").asText());
        assertEquals("prioritize", e.get("prioritizeVerb").asText());
        assertEquals("bind", e.get("bindVerb").asText());
        assertTrue(e.get("nodeCacheCapable").asBoolean());
        assertTrue(e.get("ignorable").asBoolean());
        List<HasMetadata> deploy = load("deployment.yaml");
        ConfigMap cm = (ConfigMap) deploy.stream().filter(o -> o instanceof ConfigMap).findFirst().orElseThrow();
        assertEquals(e, extender(cm.getData().get("scheduler-config.yaml")), "the ConfigMap carries the same stanza");
    }

    @Test
    void rbacAndDeploymentsParse() throws Exception {
        ClusterRole role = (ClusterRole) load("rbac.yaml").stream().filter(o -> o instanceof ClusterRole).findFirst().orElseThrow();
        assertTrue(role.getRules().stream().anyMatch(r -> r.getResources().contains("pods/binding") && r.getVerbs().contains("create")));
        assertTrue(role.getRules().stream().anyMatch(r -> r.getResources().contains("nodes") && r.getVerbs().contains("watch")));
        List<Deployment> deployments = load("deployment.yaml").stream().filter(o -> o instanceof Deployment).map(Deployment.class::cast).toList();
        assertEquals(2, deployments.size());
        List<String> args = deployments.get(0).getSpec().getTemplate().getSpec().getContainers().get(0).getArgs();
        assertEquals("scheduler-extender", args.get(0));
        assertTrue(args.contains("--listen=0.0.0.0:8888"));
    }
}
