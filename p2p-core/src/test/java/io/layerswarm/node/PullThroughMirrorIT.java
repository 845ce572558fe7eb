package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.host.Host;
import io.layerswarm.mirror.DistributionServer;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Four nodes, each with its own pull-through mirror, pull one corpus image at the same time with the
 * real skopeo; the real docker-registry upstream sends each blob about once and umoci unpacks
 * identical root filesystems everywhere.
 */
class PullThroughMirrorIT {
    @TempDir
    Path tmp;
    TestCluster cluster;

    @BeforeEach
    void setUp() {
        cluster = new TestCluster(tmp);
    }

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    @Test
    void fourMirrorsPullOneImageAtOnceAndTheRegistrySendsEachBlobOnce() throws Exception {
        Corpus corpus = Corpus.small();
        Corpus.Image image = corpus.images().stream().max((a, b) -> Long.compare(a.totalSize(), b.totalSize()))
                .orElseThrow();
        RegistryFixture registry = cluster.add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        corpus.pushTo(registry.baseUri().toString());
        long pushLogBytes = registry.blobBytesServed().values().stream().mapToLong(Long::longValue).sum();
        RegistryClient upstream = RegistryClient.builder(registry.baseUri()).build();

        List<Host> hosts = new ArrayList<>();
        List<String> mirrors = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            TestCluster.Node n = cluster.node("node" + i, TestCluster.patient(SwarmConfig.defaults()));
            DistributionServer mirror = cluster.add(DistributionServer.start(new InetSocketAddress("127.0.0.1", 0),
                    new PullThroughProvider(upstream, n.store(), n.swarm(), cluster.pool, Duration.ofMinutes(2))));
            hosts.add(n.host());
            mirrors.add(mirror.url().substring("http://".length()));
        }
        TestCluster.connectAll(hosts);

        List<CompletableFuture<String>> trees = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Path layout = tmp.resolve("pulled" + i);
            Path bundle = tmp.resolve("bundle" + i);
            String src = "docker://" + mirrors.get(i) + "/" + image.ref();
            trees.add(CompletableFuture.supplyAsync(() -> {
                try {
                    run("skopeo", "copy", "-q", "--src-tls-verify=false", src, "oci:" + layout + ":" + image.tag());
                    run("umoci", "unpack", "--rootless", "--image", layout + ":" + image.tag(), bundle.toString());
                    // type, mode, link target and content hash of every path
                    return run("sh", "-c", "cd '" + bundle + "/rootfs' && find . -printf '%p %y %m %l\\n' | sort"
                            + " && find . -type f -print0 | sort -z | xargs -0 -r sha256sum");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, cluster.pool));
        }
        String first = trees.get(0).get(5, TimeUnit.MINUTES);
        assertTrue(first.lines().count() > 50, "unpacked a real rootfs:\n" + first.lines().limit(5).toList());
        for (int i = 1; i < 4; i++) {
            assertEquals(first, trees.get(i).get(5, TimeUnit.MINUTES), "rootfs of node " + i + " differs");
        }

        long imageBlobBytes = image.layers().stream().mapToLong(Corpus.Layer::size).sum();
        long served = registry.blobBytesServed().values().stream().mapToLong(Long::longValue).sum() - pushLogBytes;
        System.out.printf("figure registry_blob_bytes=%d image_blob_bytes=%d ratio=%.3f%n", served, imageBlobBytes,
                (double) served / imageBlobBytes);
        assertTrue(served <= imageBlobBytes * 1.05 + 64 * 1024,
                "registry served " + served + " blob bytes to 4 nodes for an image whose layers are " + imageBlobBytes);
        assertTrue(served >= imageBlobBytes, "every layer byte came from the registry once: " + served);
    }

    private static String run(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed:\n" + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return out;
    }
}
