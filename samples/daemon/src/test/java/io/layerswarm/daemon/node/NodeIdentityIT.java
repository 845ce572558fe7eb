package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Identity per node: four {@code layerswarm node} processes on sibling state directories and no key
 * flags get four identities (the default key lives inside each node's own directory), so they join
 * one swarm and the registry sends the image about once; a second process on a directory in use is
 * refused with one {@code error:} line.
 */
class NodeIdentityIT {
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
    void siblingDirectoriesWithoutKeyFlagsAreFourNodesAndTheRegistrySendsTheImageOnce() throws Exception {
        Corpus.Image image = Corpus.small().largest();
        RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN);
        open.add(registry);
        Corpus.small().pushTo(registry.baseUri().toString());
        long pushLogBytes = registry.totalBlobBytesServed();

        Path state = tmp.resolve("x");
        List<NodeProcess> nodes = new ArrayList<>(List.of(open.add(NodeProcess.startWith("id0", tmp.resolve("logs0"),
                args(state.resolve("n0"), registry, List.of()), "INFO"))));
        List<NodeProcess.Start> joiners = new ArrayList<>();
        for (int i = 1; i < 4; i++) {
            List<String> args = args(state.resolve("n" + i), registry, List.of("--bootstrap", nodes.get(0).listen));
            Path logs = tmp.resolve("logs" + i);
            String name = "id" + i;
            joiners.add(() -> NodeProcess.startWith(name, logs, args, "INFO"));
        }
        nodes.addAll(NodeProcess.startAll(open, joiners));
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            ids.add(nodes.get(i).listen.substring(nodes.get(i).listen.lastIndexOf("/p2p/") + 5));
            assertTrue(Files.isRegularFile(state.resolve("n" + i).resolve("node.key")),
                    "key inside the node's own directory");
        }
        assertEquals(4, ids.size(), "four distinct peer ids: " + ids);
        assertTrue(Files.notExists(state.resolve("node.key")), "no key shared beside the directories");

        // a second process on a directory in use: one line, nothing on stdout, non-zero exit
        Process second = new ProcessBuilder(NodeProcess.command("node", "--listen", "/ip4/127.0.0.1/tcp/0",
                "--mirror-listen", "127.0.0.1:0", "--cache-dir", state.resolve("n1").toString(),
                "--upstream", registry.baseUri().toString())).start();
        String out = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(second.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(second.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, second.exitValue(), err);
        assertEquals("", out);
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("error: ") && err.contains(state.resolve("n1").toString())
                && err.contains("already open"), err);

        for (int i = 1; i < 4; i++) {
            nodes.get(i).awaitEvent(l -> l.contains("event=kad_bootstrapped"), 60);
            // NAT traversal runs in the node: the bootstrap says which path each joining peer's connection took
            String joined = nodes.get(i).listen.substring(nodes.get(i).listen.lastIndexOf("/p2p/") + 5);
            nodes.get(0).awaitEvent(l -> l.contains("event=peer_connected peer=" + joined + " path=direct"
                    + " transport=tcp rtt_ms="), 60);
        }
        // the first node pulls alone; the other three then pull at once and find every layer on peers
        pull(nodes.get(0), image, tmp.resolve("pulled0")).get(5, TimeUnit.MINUTES);
        List<CompletableFuture<Void>> rest = new ArrayList<>();
        for (int i = 1; i < 4; i++) {
            rest.add(pull(nodes.get(i), image, tmp.resolve("pulled" + i)));
        }
        for (CompletableFuture<Void> f : rest) {
            f.get(5, TimeUnit.MINUTES);
        }
        long imageBytes = image.layers().stream().mapToLong(Corpus.Layer::size).sum();
        long served = registry.totalBlobBytesServed() - pushLogBytes;
        System.out.printf("node-identity: image=%s layer_bytes=%d registry_blob_bytes=%d ratio=%.3f%n", image.ref(),
                imageBytes, served, (double) served / imageBytes);
        assertTrue(served <= imageBytes * 1.05, "registry sent " + served + " blob bytes to 4 nodes for an image of "
                + imageBytes + " layer bytes");
        assertEquals(List.of(143, 143, 143, 143), NodeProcess.stopAll(nodes), "every node exits on SIGTERM");
    }

    /** A node on {@code dir} without key flags, patient, plus {@code extra}. */
    private static List<String> args(Path dir, RegistryFixture registry, List<String> extra) {
        List<String> args = new ArrayList<>(List.of("--cache-dir", dir.toString(), "--upstream",
                registry.baseUri().toString()));
        args.addAll(NodeProcess.PATIENT);
        args.addAll(extra);
        return args;
    }

    private CompletableFuture<Void> pull(NodeProcess node, Corpus.Image image, Path layout) {
        return CompletableFuture.runAsync(() -> {
            try {
                NodeProcess.run(300, "skopeo", "copy", "-q", "--src-tls-verify=false",
                        "docker://" + node.mirror + "/" + image.ref(), "oci:" + layout + ":" + image.tag());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, pool);
    }
}
