package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Four {@code layerswarm node} processes joined through the DHT, each with its own mirror, pull one
 * corpus image at the same time with the real skopeo from a real docker-registry: umoci unpacks four
 * identical trees and the registry sends each blob byte about once in total.
 */
class NodeClusterIT {
    @TempDir
    Path tmp;
    private final Closer open = new Closer();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void tearDown() throws Exception {
        open.close();
        pool.shutdownNow();
    }

    @Test
    void fourNodeProcessesPullOneImageAtOnceAndTheRegistrySendsEachByteAboutOnce() throws Exception {
        Corpus.Image image = Corpus.small().images().stream()
                .max((a, b) -> Long.compare(a.totalSize(), b.totalSize())).orElseThrow();
        RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN);
        open.add(registry);
        Corpus.small().pushTo(registry.baseUri().toString());
        long pushLogBytes = registry.blobBytesServed().values().stream().mapToLong(Long::longValue).sum();

        // one after the other: each later node's bootstrap then learns every earlier one at once
        List<NodeProcess> nodes = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            List<String> extra = new ArrayList<>(NodeProcess.PATIENT);
            if (i > 0) {
                extra.addAll(List.of("--bootstrap", nodes.get(0).listen));
            }
            NodeProcess n = NodeProcess.start("node" + i, tmp.resolve("node" + i), registry.baseUri().toString(), extra);
            open.add(n);
            nodes.add(n);
        }
        // every node reaches every other (node 3 learns 1 and 2 from node 0's routing table, and so on)
        for (int i = 1; i < 4; i++) {
            nodes.get(i).awaitEvent(l -> l.contains("event=kad_bootstrapped"), 60);
        }
        nodes.get(3).awaitEvent(l -> l.contains("event=kad_bootstrapped routing_table=3")
                || nodes.get(3).events().stream().filter(e -> e.contains("event=peer_connected")).count() >= 2, 30);

        long t0 = System.nanoTime();
        List<CompletableFuture<String>> trees = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Path layout = tmp.resolve("pulled" + i);
            Path bundle = tmp.resolve("bundle" + i);
            String src = "docker://" + nodes.get(i).mirror + "/" + image.ref();
            trees.add(CompletableFuture.supplyAsync(() -> {
                try {
                    NodeProcess.run(300, "skopeo", "copy", "-q", "--src-tls-verify=false", src,
                            "oci:" + layout + ":" + image.tag());
                    NodeProcess.run(300, "umoci", "unpack", "--rootless", "--image", layout + ":" + image.tag(),
                            bundle.toString());
                    return NodeProcess.run(120, "sh", "-c", "cd '" + bundle + "/rootfs' && find . -printf '%p %y %m %l\\n'"
                            + " | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, pool));
        }
        String first = trees.get(0).get(5, TimeUnit.MINUTES);
        for (int i = 1; i < 4; i++) {
            assertEquals(first, trees.get(i).get(5, TimeUnit.MINUTES), "rootfs of node " + i + " differs");
        }
        long pullMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(first.lines().count() > 50, "unpacked a real rootfs:\n" + first.lines().limit(5).toList());

        long imageBlobBytes = image.layers().stream().mapToLong(Corpus.Layer::size).sum();
        long served = registry.blobBytesServed().values().stream().mapToLong(Long::longValue).sum() - pushLogBytes;
        long peerBytes = 0;
        for (NodeProcess n : nodes) {
            for (String l : n.events()) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("peer_bytes=(\\d+)").matcher(l);
                if (l.contains("event=blob_fetched") && m.find()) {
                    peerBytes += Long.parseLong(m.group(1));
                }
            }
            n.awaitEvent(l -> l.contains("event=blob_served"), 30); // the output is read by a thread of its own
        }
        System.out.printf("node-cluster: image=%s layer_bytes=%d registry_blob_bytes=%d ratio=%.3f peer_bytes=%d"
                + " pull_ms=%d%n", image.ref(), imageBlobBytes, served, (double) served / imageBlobBytes, peerBytes,
                pullMs);
        if (served > imageBlobBytes * 1.05) {
            for (NodeProcess n : nodes) {
                n.events().forEach(l -> System.out.println(n.name + ": " + l));
            }
            System.out.println("registry blob bytes: " + registry.blobBytesServed());
        }
        assertTrue(served <= imageBlobBytes * 1.05,
                "registry served " + served + " blob bytes to 4 nodes for an image whose layers are " + imageBlobBytes);
        assertTrue(peerBytes > 0, "layers moved between the node processes");
        assertEquals(List.of(143, 143, 143, 143), NodeProcess.stopAll(nodes), "every node exits on SIGTERM");
    }
}
