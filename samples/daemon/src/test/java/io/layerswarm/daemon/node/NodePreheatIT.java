package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.daemon.CliRun;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Preheat on real {@code layerswarm node} processes: a pulls the image through its mirror; {@code layerswarm
 * preheat} has c fetch it; the registry sends no further layer bytes, and the kubelet's pull through c's
 * mirror afterwards sends no blob bytes from the registry at all.
 */
class NodePreheatIT {
    @TempDir
    Path tmp;
    private final Closer open = new Closer();

    @AfterEach
    void stopAll() throws Exception {
        open.close();
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES) // two node JVMs and the registry on a loaded 2-core machine
    void aPreheatedNodeProcessServesThePullWithoutTheRegistry() throws Exception {
        Corpus corpus = Corpus.small();
        Corpus.Image image = corpus.largest();
        RegistryFixture registry = open.add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        corpus.pushTo(registry.baseUri().toString());
        String upstream = registry.baseUri().toString();
        // no bandwidth probes: their bounded registry read would count in the blob bytes this test holds at 0
        List<NodeProcess> ac = NodeProcess.startAll(open, List.of(
                () -> NodeProcess.start("a", tmp.resolve("a"), upstream, List.of("--node-name", "a", "--link-probe-interval", "0")),
                () -> NodeProcess.start("c", tmp.resolve("c"), upstream, List.of("--node-name", "c", "--link-probe-interval", "0"))));
        NodeProcess a = ac.get(0);
        NodeProcess c = ac.get(1);
        List<String> blobs = new ArrayList<>(List.of(image.configDigest()));
        image.layers().forEach(l -> blobs.add(l.digest()));
        a.mirrorGet("/v2/" + image.name() + "/manifests/" + image.tag());
        for (String b : blobs) {
            assertEquals(b, NodeProcess.sha256(a.mirrorGet("/v2/" + image.name() + "/blobs/" + b)));
        }
        for (String b : blobs) {
            // committed (so a's next status record lists it), not only streamed to the client
            a.awaitEvent(l -> l.contains("event=blob_fetched") && l.contains(b), 60);
        }
        Map<String, Long> before = registry.blobBytesServed();

        CliRun r = CliRun.of("preheat", "--image", registry.hostPort() + "/" + image.name() + ":" + image.tag(),
                "--node", "c", "--bootstrap", a.listen, "--bootstrap", c.listen, "--upstream", upstream);
        System.out.println("node-preheat-it: " + r.out().replace("\n", "\nnode-preheat-it: "));
        assertEquals(0, r.status(), r.err() + r.out());
        assertTrue(r.out().contains(" registry_bytes=0 "), r.out());
        Map<String, Long> afterPreheat = registry.blobBytesServed();
        for (Corpus.Layer l : image.layers()) {
            assertEquals(before.get(l.digest()), afterPreheat.get(l.digest()), "registry bytes of " + l.digest());
        }

        // the kubelet's pull through c's mirror: every blob local, nothing more from the registry
        c.mirrorGet("/v2/" + image.name() + "/manifests/" + image.tag());
        for (String b : blobs) {
            assertEquals(b, NodeProcess.sha256(c.mirrorGet("/v2/" + image.name() + "/blobs/" + b)));
        }
        assertEquals(afterPreheat, registry.blobBytesServed(), "the pull through c's mirror took no blob bytes from the registry");
    }
}
