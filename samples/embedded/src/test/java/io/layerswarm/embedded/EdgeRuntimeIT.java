package io.layerswarm.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.oci.Digest;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.Processes;
import io.layerswarm.testing.RegistryFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two edge runtimes against a real docker-registry: the first deploys an image from the registry, the
 * second joins it and deploys the same image from the first alone; both unpack the same rootfs as
 * umoci does from the layout, and the image's command comes from its config.
 */
class EdgeRuntimeIT {
    @TempDir
    Path tmp;

    @Test
    void theSecondRuntimeDeploysFromThePeerAndTheRegistrySendsTheImageOnce() throws Exception {
        Corpus corpus = Corpus.small();
        Corpus.Image image = corpus.largest();
        long blobBytes = image.layers().stream().mapToLong(Corpus.Layer::size).sum();
        try (RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            corpus.pushTo(registry.baseUri().toString());
            long before = registry.totalBlobBytesServed();
            Multiaddr loopback = Multiaddr.parse("/ip4/127.0.0.1/tcp/0");
            try (EdgeRuntime first = EdgeRuntime.start(tmp.resolve("edge1"), registry.baseUri(), loopback, List.of())) {
                EdgeRuntime.Deployment d1 = first.deploy(image.name(), image.tag());
                assertEquals(image.manifestDigest(), d1.image().digest().toString());
                assertEquals(0, d1.peerBytes(), "nobody to get it from yet");
                try (EdgeRuntime second = EdgeRuntime.start(tmp.resolve("edge2"), registry.baseUri(), loopback,
                        List.of(first.node().listenAddrs().get(0)))) {
                    // the first runtime's holdings reach the second with the connection's first announcements
                    Digest layer = Digest.parse(image.layers().get(0).digest());
                    Await.until(Duration.ofSeconds(30), "the second runtime learns what the first holds",
                            () -> second.node().swarm().holders(layer).join() > 0);
                    EdgeRuntime.Deployment d2 = second.deploy(image.name(), image.tag());
                    assertEquals(0, d2.registryBytes(), "everything from the first runtime");
                    assertEquals(d1.image().blobBytes(), d2.peerBytes());
                    assertEquals(d1.command(), d2.command());
                    String tree1 = tree(d1.rootfs());
                    assertEquals(tree1, tree(d2.rootfs()), "same rootfs on both runtimes");
                    Processes.run(120, "umoci", "unpack", "--rootless", "--image", d2.layout() + ":" + image.tag(),
                            tmp.resolve("bundle").toString());
                    assertEquals(tree1, tree(tmp.resolve("bundle/rootfs")), "umoci unpacks the same tree from the layout");
                }
            }
            long sent = registry.totalBlobBytesServed() - before;
            assertTrue(sent <= blobBytes * 1.05, "the registry sent " + sent + " bytes for " + blobBytes);
        }
    }

    @Test
    void badArgumentsAreOneErrorLine() {
        for (String[] args : List.of(new String[] {}, new String[] {"--registry"},
                new String[] {"--registry", "http://127.0.0.1:1", "--dir", "x", "--frobnicate"},
                new String[] {"--registry", "http://127.0.0.1:1", "--dir", "x", "Not/A:Valid:Ref"})) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = EdgeRuntime.run(args, new PrintStream(new ByteArrayOutputStream()),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            String text = err.toString(StandardCharsets.UTF_8);
            assertEquals(2, status, String.join(" ", args) + ": " + text);
            assertEquals(1, text.lines().count(), text);
            assertTrue(text.startsWith("error: "), text);
        }
    }

    /** Paths, link targets and file contents (modes differ under rootless umoci). */
    static String tree(Path root) throws IOException, InterruptedException {
        return Processes.run(120, "sh", "-c", "cd '" + root + "' && find . -printf '%p %y %l\\n' | sort"
                + " && find . -type f -print0 | sort -z | xargs -0 -r sha256sum");
    }
}
