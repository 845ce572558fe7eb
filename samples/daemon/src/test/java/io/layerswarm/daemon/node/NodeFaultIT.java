package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.RegistryFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults across node processes: two nodes hold an image with a large layer, the registry is shut
 * down, and a fresh third node pulls it through its mirror while one of the two holders is killed
 * with SIGKILL as soon as the fresh node starts fetching the layer. The manifest comes from a peer
 * (the nodes share manifests they have seen), the layer from whoever is left.
 */
class NodeFaultIT {
    private static final int LAYER_FILE_BYTES = 48 * 1024 * 1024;

    @TempDir
    Path tmp;
    private final Closer open = new Closer();

    @AfterEach
    void tearDown() throws Exception {
        open.close();
    }

    private record Pushed(Digest layer, byte[] layerBytes) { }

    /** An image with one uncompressed tar layer holding a random file. */
    private Pushed pushBigImage(RegistryFixture registry, String repo, String tag) throws Exception {
        Path content = Files.createDirectories(tmp.resolve("content"));
        byte[] random = new byte[LAYER_FILE_BYTES];
        new Random(42).nextBytes(random);
        Files.write(content.resolve("big.bin"), random);
        Path tar = tmp.resolve("layer.tar");
        NodeProcess.run(60, "tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-cf",
                tar.toString(), "-C", content.toString(), "big.bin");
        byte[] layer = Files.readAllBytes(tar);
        Digest layerDigest = Digest.sha256(layer);
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
                + layerDigest + "\"]}}").getBytes(StandardCharsets.UTF_8);
        Digest configDigest = Digest.sha256(config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest
                + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
                + "\"digest\":\"" + layerDigest + "\",\"size\":" + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
        RegistryClient client = RegistryClient.builder(registry.baseUri()).build();
        client.pushBlob(repo, configDigest, config);
        client.pushBlob(repo, layerDigest, tar);
        client.putManifest(repo, tag, manifest, MediaTypes.OCI_MANIFEST);
        return new Pushed(layerDigest, layer);
    }

    /** Copies to a {@code dir:} destination, which keeps layers as served (an oci: one would gzip them). */
    private static void skopeo(NodeProcess n, String ref, Path dir) throws IOException, InterruptedException {
        NodeProcess.run(300, "skopeo", "copy", "-q", "--src-tls-verify=false", "docker://" + n.mirror + "/" + ref,
                "dir:" + dir);
    }

    private static String stderr(NodeProcess n) {
        try {
            return n.stderrText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long count(String text, String needle) {
        return text.lines().filter(l -> l.contains(needle)).count();
    }

    @Test
    void freshNodePullsWithRegistryDownWhileAServingPeerIsKilled() throws Exception {
        RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN);
        open.add(registry);
        Pushed image = pushBigImage(registry, "big", "v1");
        String upstream = registry.baseUri().toString();
        // uploads capped at 16 MiB/s: c's pull then lasts seconds on any machine, so a is killed mid-transfer
        List<String> small = List.of("--piece-size", "1MiB", "--max-upload-rate", "16MiB");

        NodeProcess a = NodeProcess.start("a", tmp.resolve("a"), upstream, small, "DEBUG");
        open.add(a);
        List<String> viaA = new ArrayList<>(small);
        viaA.addAll(List.of("--bootstrap", a.listen));
        NodeProcess b = NodeProcess.start("b", tmp.resolve("b"), upstream, viaA);
        open.add(b);
        b.awaitEvent(l -> l.contains("event=kad_bootstrapped"), 60);
        skopeo(a, "big:v1", tmp.resolve("pulled-a"));
        skopeo(b, "big:v1", tmp.resolve("pulled-b"));

        registry.close(); // from here on, only the peers have the image
        NodeProcess c = NodeProcess.start("c", tmp.resolve("c"), upstream, viaA);
        open.add(c);
        String bId = b.listen.substring(b.listen.lastIndexOf('/') + 1);
        c.awaitEvent(l -> l.contains("event=peer_connected peer=" + bId), 60);

        long t0 = System.nanoTime();
        Path layout = tmp.resolve("pulled-c");
        CompletableFuture<Void> pull = CompletableFuture.runAsync(() -> {
            try {
                skopeo(c, "big:v1", layout);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        // kill a once it has served c some of the layer (a served b before: count from here)
        String served = "event=piece_served blob=" + image.layer().hex().substring(0, 12);
        long servedBefore = count(a.stderrText(), served);
        Await.until(Duration.ofSeconds(60), "a served c three pieces",
                () -> count(stderr(a), served) >= servedBefore + 3 || pull.isDone());
        assertFalse(pull.isDone(), "a never served c: " + c.stderrText());
        a.process.destroyForcibly(); // SIGKILL a serving peer mid-transfer
        long piecesFromA = count(a.stderrText(), served) - servedBefore;
        long killedAtMs = (System.nanoTime() - t0) / 1_000_000;
        pull.get(90, TimeUnit.SECONDS);
        long pullMs = (System.nanoTime() - t0) / 1_000_000;
        assertFalse(a.process.isAlive());

        Path blob = layout.resolve(image.layer().hex());
        assertArrayEquals(image.layerBytes(), Files.readAllBytes(blob), "layer pulled through c is the pushed layer");
        c.awaitEvent(l -> l.contains("event=manifest_via_peer"), 30); // c got the manifest from a peer
        String fetched = c.awaitEvent(l -> l.contains("event=blob_fetched") && l.contains(image.layer().toString()), 30);
        assertTrue(fetched.contains("registry_bytes=0"), fetched);
        assertTrue(fetched.contains(bId), "b finished what a could not: " + fetched);
        System.out.printf("node-fault: layer_bytes=%d pieces_a_served_c_before_kill=%d killed_a_after_ms=%d pull_ms=%d"
                + " c_layer: %s%n", image.layerBytes().length, piecesFromA, killedAtMs, pullMs, fetched.substring(fetched.indexOf("event=")));
    }
}
