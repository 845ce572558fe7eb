package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Containerd;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * containerd as the client: two {@code layerswarm node} processes, each the {@code hosts.toml} mirror
 * of its own containerd, in front of a real docker-registry holding the corpus. The first containerd
 * pulls through node 0 (from the registry), the second through node 1, which gets every layer from
 * node 0; the registry sends the image about once; a container from the image runs with runc.
 */
@Tag("root")
class ContainerdMirrorIT {
    private static final Pattern PEER_BYTES = Pattern.compile("peer_bytes=(\\d+)");
    private static final Pattern REGISTRY_BYTES = Pattern.compile("registry_bytes=(\\d+)");

    @TempDir
    Path tmp;
    private final Closer open = new Closer();

    @AfterEach
    void tearDown() throws Exception {
        open.close();
    }

    @Test
    void containerdPullsThroughTwoNodesAndTheSecondGetsItsLayersFromPeers() throws Exception {
        Containerd.requireAvailable();
        Corpus.Image image = Corpus.small().images().stream().filter(i -> i.ref().equals("clock:2")).findFirst()
                .orElseThrow();
        RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN);
        open.add(registry);
        Corpus.small().pushTo(registry.baseUri().toString());
        long pushLogBytes = registry.blobBytesServed().values().stream().mapToLong(Long::longValue).sum();

        NodeProcess n0 = NodeProcess.start("ctrd-node0", tmp.resolve("node0"), registry.baseUri().toString(), List.of());
        open.add(n0);
        NodeProcess n1 = NodeProcess.start("ctrd-node1", tmp.resolve("node1"), registry.baseUri().toString(),
                List.of("--bootstrap", n0.listen));
        open.add(n1);
        n1.awaitEvent(l -> l.contains("event=kad_bootstrapped"), 60);

        // what the README shows: hosts.toml for the registry's host naming the local node as mirror
        Containerd c0 = Containerd.start(tmp.resolve("c0"));
        open.add(c0);
        Containerd c1 = Containerd.start(tmp.resolve("c1"));
        open.add(c1);
        c0.mirror(registry.hostPort(), registry.baseUri(), List.of(URI.create("http://" + n0.mirror)));
        c1.mirror(registry.hostPort(), registry.baseUri(), List.of(URI.create("http://" + n1.mirror)));
        String ref = registry.hostPort() + "/" + image.ref();

        Containerd.Pull p0 = c0.pull(ref, Duration.ofMinutes(3));
        Containerd.Pull p1 = c1.pull(ref, Duration.ofMinutes(3));
        for (Containerd c : List.of(c0, c1)) {
            List<String> content = c.contentDigests();
            for (Corpus.Layer l : image.layers()) {
                assertTrue(content.contains(l.digest()), "layer " + l.digest() + " in " + c.dir() + ": " + content);
            }
        }

        long layerBytes = image.layers().stream().mapToLong(Corpus.Layer::size).sum();
        long peerBytes = 0;
        for (Corpus.Layer l : image.layers()) {
            for (NodeProcess n : List.of(n0, n1)) {
                String served = n.awaitEvent(e -> e.contains("event=blob_served") && e.contains(l.digest()), 10);
                assertTrue(served.contains("bytes=" + l.size()), n.name + " served the layer to containerd: " + served);
            }
            String fetched = n1.awaitEvent(e -> e.contains("event=blob_fetched") && e.contains(l.digest()), 10);
            assertEquals(0, field(REGISTRY_BYTES, fetched), "node 1 took nothing from the registry: " + fetched);
            assertEquals(l.size(), field(PEER_BYTES, fetched), "node 1 got the whole layer from node 0: " + fetched);
            peerBytes += field(PEER_BYTES, fetched);
        }
        long served = registry.blobBytesServed().values().stream().mapToLong(Long::longValue).sum() - pushLogBytes;
        System.out.printf("containerd-mirror: image=%s snapshotter=%s layer_bytes=%d registry_blob_bytes=%d ratio=%.3f"
                        + " node1_peer_bytes=%d pull0_ms=%d pull1_ms=%d%n", image.ref(), c0.snapshotter(), layerBytes,
                served, (double) served / layerBytes, peerBytes, p0.total().toMillis(), p1.total().toMillis());
        assertTrue(served >= layerBytes && served <= layerBytes * 1.05,
                "registry sent " + served + " blob bytes to two containerds for layers of " + layerBytes);

        String out = c1.run(ref, Duration.ofMinutes(1), "/bin/sh", "-c",
                "cat /etc/timezone; ls /usr/share/zoneinfo/Europe/Berlin; echo sum=$((6*7))");
        assertEquals("Europe/Berlin\n/usr/share/zoneinfo/Europe/Berlin\nsum=42\n", out.replace("\r\n", "\n"));
        assertEquals(List.of(143, 143), NodeProcess.stopAll(List.of(n1, n0)), "both nodes exit on SIGTERM");
    }

    private static long field(Pattern p, String line) {
        Matcher m = p.matcher(line);
        assertTrue(m.find(), p + " in " + line);
        return Long.parseLong(m.group(1));
    }
}
