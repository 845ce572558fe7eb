package io.layerswarm.daemon.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.layerswarm.daemon.Main;
import io.layerswarm.daemon.node.NodeCommand;
import io.layerswarm.daemon.node.NodeConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The deployment samples are checked, not just shipped: the systemd unit by {@code systemd-analyze
 * verify} and against the daemon's exit codes, the DaemonSet through fabric8's Kubernetes model, and
 * the node.yaml each carries by the node's own config parser.
 */
class DeploymentManifestsTest {
    private static final Path SAMPLES = Path.of("..").toAbsolutePath().normalize();
    private static final Path UNIT = SAMPLES.resolve("systemd/layerswarm.service");
    private static final Path DAEMONSET = SAMPLES.resolve("k8s/daemonset.yaml");
    private static final String LAUNCHER = "/usr/local/bin/layerswarm";

    @TempDir
    Path tmp;

    /** {@code [Section]} to key to values (a key may repeat); comments and blank lines skipped. */
    static Map<String, Map<String, List<String>>> parseUnit(String text) {
        Map<String, Map<String, List<String>>> out = new LinkedHashMap<>();
        Map<String, List<String>> section = null;
        for (String raw : text.lines().toList()) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("[") && line.endsWith("]")) {
                section = out.computeIfAbsent(line.substring(1, line.length() - 1), k -> new LinkedHashMap<>());
                continue;
            }
            int eq = line.indexOf('=');
            if (section == null || eq <= 0) {
                throw new IllegalArgumentException("not a unit file line: " + raw);
            }
            section.computeIfAbsent(line.substring(0, eq).strip(), k -> new ArrayList<>()).add(line.substring(eq + 1).strip());
        }
        return out;
    }

    private static String one(Map<String, Map<String, List<String>>> unit, String section, String key) {
        List<String> v = unit.getOrDefault(section, Map.of()).get(key);
        assertNotNull(v, "[" + section + "] " + key + " missing");
        assertEquals(1, v.size(), "[" + section + "] " + key + " set once");
        return v.get(0);
    }

    @Test
    void systemdUnitRunsTheLauncherWithTheConfigAndMatchesTheExitCodes() throws Exception {
        var unit = parseUnit(Files.readString(UNIT));
        String exec = one(unit, "Service", "ExecStart");
        assertEquals(LAUNCHER + " node --config /etc/layerswarm/node.yaml", exec);
        String[] args = exec.substring(LAUNCHER.length()).strip().split(" ");
        // the flags parse as the daemon's (a typo here would only show at boot)
        CommandLine cli = new CommandLine(new Main());
        assertEquals("node", cli.parseArgs(args).subcommand().commandSpec().name());
        assertEquals("layerswarm", one(unit, "Service", "ConfigurationDirectory"), "/etc/layerswarm is the unit's");
        assertEquals("layerswarm", one(unit, "Service", "StateDirectory"));
        assertEquals(String.valueOf(NodeCommand.BAD_CONFIG), one(unit, "Service", "RestartPreventExitStatus"),
                "a bad config is not restarted in a loop");
        assertEquals(String.valueOf(Main.BAD_ARGUMENTS), one(unit, "Service", "RestartPreventExitStatus"));
        assertEquals("143", one(unit, "Service", "SuccessExitStatus"), "SIGTERM exit is a clean stop");
        assertEquals("on-failure", one(unit, "Service", "Restart"));
        assertEquals("multi-user.target", one(unit, "Install", "WantedBy"));
        assertTrue(one(unit, "Unit", "After").contains("network-online.target"));
    }

    @Test
    void systemdAnalyzeVerifyAcceptsTheUnitAndCatchesABrokenOne() throws Exception {
        // verify also checks that ExecStart exists: point it at a stand-in launcher
        Path launcher = Files.writeString(tmp.resolve("layerswarm"), "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        String text = Files.readString(UNIT).replace(LAUNCHER + " ", launcher + " ");
        Path good = Files.writeString(tmp.resolve("layerswarm.service"), text);
        assertEquals("", verify(good), "systemd-analyze verify has no complaints");

        Path bad = Files.writeString(tmp.resolve("broken.service"), text.replace("Restart=on-failure", "Restart=sometimes")
                .replace("RestartSec=5s", "RestartSec=five").replace("[Service]", "[Service]\nExecStartt=/bin/true"));
        String complaints = verify(bad);
        assertTrue(complaints.contains("sometimes") && complaints.contains("five") && complaints.contains("ExecStartt"),
                complaints);
    }

    private static String verify(Path unit) throws Exception {
        Process p = new ProcessBuilder("systemd-analyze", "verify", "--man=no", unit.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .lines().filter(l -> !l.contains("sysinit.target") && !l.isBlank())
                .reduce("", (a, b) -> a + b + "\n");
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "systemd-analyze finished");
        return out;
    }

    @Test
    void systemdSampleConfigIsAValidNodeConfig() throws Exception {
        NodeConfig.Settings s = NodeConfig.load(SAMPLES.resolve("systemd/node.yaml")).validate();
        assertEquals(Path.of("/var/lib/layerswarm/store"), s.cacheDir(), "inside the unit's StateDirectory");
        assertEquals(9402, s.metricsListen().getPort());
        assertTrue(s.upstreams().stream().anyMatch(u -> u.insecure() && u.url().getScheme().equals("http")),
                "shows a LAN registry marked insecure");
    }

    @Test
    void daemonSetRunsOneHostNetworkPodPerNodeProbedOnHealthz() throws Exception {
        List<Object> docs = new ArrayList<>();
        for (String doc : Files.readString(DAEMONSET).split("(?m)^---$")) {
            docs.add(Serialization.unmarshal(doc));
        }
        assertEquals(2, docs.size());
        ConfigMap cm = (ConfigMap) docs.get(0);
        DaemonSet ds = (DaemonSet) docs.get(1);
        assertEquals("apps/v1", ds.getApiVersion());
        assertEquals(ds.getSpec().getSelector().getMatchLabels(), ds.getSpec().getTemplate().getMetadata().getLabels(),
                "the selector matches the pods");
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        assertTrue(pod.getHostNetwork(), "containerd on the node reaches the mirror on 127.0.0.1");
        assertEquals("ClusterFirstWithHostNet", pod.getDnsPolicy());
        assertEquals(1, pod.getContainers().size());
        Container c = pod.getContainers().get(0);
        assertTrue(c.getImage().matches("[a-z0-9.\\-/]+:[0-9][\\w.\\-]*"), "a pinned image tag: " + c.getImage());
        assertEquals(List.of(LAUNCHER), c.getCommand());
        assertEquals(List.of("node", "--config", "/etc/layerswarm/node.yaml"), c.getArgs());
        new CommandLine(new Main()).parseArgs(c.getArgs().toArray(String[]::new));

        // the config the args name is the ConfigMap, mounted where --config points
        Volume config = volume(pod, "config");
        assertEquals(cm.getMetadata().getName(), config.getConfigMap().getName());
        VolumeMount configMount = mount(c, "config");
        assertEquals("/etc/layerswarm", configMount.getMountPath());
        assertTrue(configMount.getReadOnly());
        NodeConfig.Settings s = NodeConfig.parse(cm.getData().get("node.yaml"), "configmap").validate();

        // the store is on the node and the config's cacheDir is inside its mount
        Volume store = volume(pod, "store");
        assertEquals("/var/lib/layerswarm", store.getHostPath().getPath());
        assertEquals("DirectoryOrCreate", store.getHostPath().getType());
        assertTrue(s.cacheDir().startsWith(mount(c, "store").getMountPath()), s.cacheDir().toString());

        // probes hit /healthz on the port metricsListen binds, on all addresses (the kubelet probes the node IP)
        assertTrue(s.metricsListen().getAddress().isAnyLocalAddress(), "metrics on 0.0.0.0 for the kubelet's probes");
        for (Probe p : List.of(c.getLivenessProbe(), c.getReadinessProbe(), c.getStartupProbe())) {
            assertNotNull(p);
            assertEquals("/healthz", p.getHttpGet().getPath());
            assertEquals(s.metricsListen().getPort(), p.getHttpGet().getPort().getIntVal());
        }
        assertEquals("127.0.0.1", s.mirrorListen().getHostString(), "the mirror stays on the node's loopback");
        assertEquals(String.valueOf(s.metricsListen().getPort()),
                ds.getSpec().getTemplate().getMetadata().getAnnotations().get("prometheus.io/port"));
        assertFalse(c.getSecurityContext().getAllowPrivilegeEscalation());
        assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem());
        assertNotNull(c.getResources().getLimits().get("memory"));
    }

    private static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    private static VolumeMount mount(Container c, String name) {
        return c.getVolumeMounts().stream().filter(m -> m.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no mount " + name));
    }
}
