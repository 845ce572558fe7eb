package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plain-http registry on the "LAN": docker-registry in a network namespace this test creates, at a
 * veth address that is not loopback (the node's check treats all of 127/8 and ::1 as loopback, so a
 * 127.0.0.x address would not test anything). Without {@code insecure} the node refuses it with one
 * error line; with {@code --insecure-upstream} skopeo pulls an image through the node from it.
 */
class InsecureUpstreamIT {
    @TempDir
    Path tmp;
    private final String ns = "lsins" + Long.toHexString(ProcessHandle.current().pid() % 0xffff);
    private final String veth = "lsi" + Long.toHexString(ProcessHandle.current().pid() % 0xffff);
    private final String subnet = "10.213." + (ProcessHandle.current().pid() % 250) + ".";
    private final Closer open = new Closer();
    private boolean nsCreated;

    @AfterEach
    void cleanUp() throws Exception {
        open.close();
        if (nsCreated) {
            NodeProcess.run(30, "ip", "netns", "del", ns); // takes the veth pair with it
        }
    }

    @Test
    void aPlainHttpRegistryOffLoopbackNeedsTheInsecureMark() throws Exception {
        Process probe = new ProcessBuilder("ip", "netns", "add", ns).redirectErrorStream(true).start();
        String probeOut = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Assumptions.assumeTrue(probe.waitFor() == 0, "skipped: cannot create network namespaces (" + probeOut.trim()
                + "); needs root/CAP_SYS_ADMIN");
        nsCreated = true;
        String hostIp = subnet + "1";
        String registryIp = subnet + "2";
        NodeProcess.run(30, "ip", "link", "add", veth + "a", "type", "veth", "peer", "name", veth + "b", "netns", ns);
        NodeProcess.run(30, "ip", "addr", "add", hostIp + "/30", "dev", veth + "a");
        NodeProcess.run(30, "ip", "link", "set", veth + "a", "up");
        NodeProcess.run(30, "ip", "netns", "exec", ns, "ip", "addr", "add", registryIp + "/30", "dev", veth + "b");
        NodeProcess.run(30, "ip", "netns", "exec", ns, "ip", "link", "set", veth + "b", "up");
        NodeProcess.run(30, "ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        assertFalse(InetAddress.getByName(registryIp).isLoopbackAddress());

        Path storage = Files.createDirectories(tmp.resolve("registry"));
        Path config = Files.writeString(tmp.resolve("registry.yml"), "version: 0.1\nlog:\n  level: warn\n"
                + "storage:\n  filesystem:\n    rootdirectory: " + storage + "\n"
                + "http:\n  addr: " + registryIp + ":5000\n  secret: insecure-upstream-test\n");
        Process registry = new ProcessBuilder("ip", "netns", "exec", ns, "docker-registry", "serve", config.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("registry.log").toFile()).start();
        open.add(() -> {
            registry.destroyForcibly();
            registry.waitFor(10, TimeUnit.SECONDS);
        });
        String url = "http://" + registryIp + ":5000";
        awaitRegistry(url, registry);
        Corpus.Image image = Corpus.small().images().get(0);
        NodeProcess.run(120, "skopeo", "copy", "-q", "--dest-tls-verify=false", image.ociReference(),
                "docker://" + registryIp + ":5000/lan/app:1");

        // not marked: one clear line, exit 2, before anything starts
        Process refused = new ProcessBuilder(NodeProcess.command("node", "--upstream", url, "--cache-dir",
                tmp.resolve("refused").toString(), "--listen", "/ip4/127.0.0.1/tcp/0", "--mirror-listen", "127.0.0.1:0"))
                .start();
        String out = new String(refused.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(refused.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(refused.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, refused.exitValue(), err);
        assertEquals("", out);
        assertEquals(List.of("error: upstream " + url + ": plain http is allowed only for loopback; use https, or mark"
                + " this upstream insecure (insecure: true, or --insecure-upstream " + url + ")"), err.lines().toList());

        // marked insecure: the node pulls through from the LAN registry
        NodeProcess node = NodeProcess.start("insecure", tmp.resolve("node"), url, List.of("--insecure-upstream", url));
        open.add(node);
        Path layout = tmp.resolve("pulled");
        NodeProcess.run(300, "skopeo", "copy", "-q", "--src-tls-verify=false",
                "docker://" + node.mirror + "/lan/app:1", "oci:" + layout + ":1");
        assertTrue(Files.readString(layout.resolve("index.json")).contains(image.manifestDigest()));
        for (Corpus.Layer l : image.layers()) {
            assertTrue(Files.isRegularFile(layout.resolve("blobs/sha256").resolve(l.digest().substring(7))), l.digest());
        }
        // fetched from the LAN registry (the output is read by a thread of its own: awaited)
        node.awaitEvent(e -> e.contains("event=blob_fetched") && e.contains(registryIp), 30);
    }

    private static void awaitRegistry(String url, Process registry) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!registry.isAlive()) {
                throw new IOException("docker-registry exited with " + registry.exitValue());
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url + "/v2/")).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IOException("docker-registry did not answer at " + url + " within 30 s");
    }
}
