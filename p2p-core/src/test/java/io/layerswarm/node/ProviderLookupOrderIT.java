package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.mirror.BlobContent;
import io.layerswarm.mirror.ContentProvider;
import io.layerswarm.mirror.DistributionServer;
import io.layerswarm.mirror.ManifestContent;
import io.layerswarm.mirror.PrivateBlobs;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.mirror.UpstreamAccess;
import io.layerswarm.mirror.UpstreamRouter;
import io.layerswarm.oci.Digest;
import io.layerswarm.registry.RegistryClient;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A blob nobody holds does not wait for the DHT provider lookup when it is one piece: its registry fetch
 * runs while the lookup is still out; a blob of several pieces still waits for the lookup, so its pieces
 * can come from the providers found. The lookup here is held on a latch the test releases, so "still
 * out" is a fact, not a race; the upstream is our own distribution server over in-test content.
 */
class ProviderLookupOrderIT {
    static final String REPO = "edge/app";

    @TempDir
    Path tmp;
    TestCluster cluster;
    byte[] config;
    byte[] layer;
    final CountDownLatch lookupEntered = new CountDownLatch(1);
    final CountDownLatch lookupRelease = new CountDownLatch(1);
    final AtomicBoolean lookupReturned = new AtomicBoolean();
    TestCluster.Node node;
    NodeContentProvider provider;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new TestCluster(tmp);
        Random random = new Random(16);
        config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
        layer = new byte[1024 * 1024]; // four pieces of 256 KiB with the default layout
        random.nextBytes(layer);
        ManifestContent manifest = ManifestContent.of(manifestJson(), "application/vnd.oci.image.manifest.v1+json");
        Map<Digest, byte[]> blobs = Map.of(Digest.sha256(config), config, Digest.sha256(layer), layer);
        DistributionServer origin = cluster.add(DistributionServer.start(new InetSocketAddress("127.0.0.1", 0),
                new ContentProvider() {
                    @Override
                    public Optional<ManifestContent> manifest(String repository, String reference, List<String> accept) {
                        return Optional.of(manifest);
                    }

                    @Override
                    public Optional<BlobContent> blob(String repository, Digest d) {
                        return Optional.ofNullable(blobs.get(d)).map(BlobContent::ofBytes);
                    }
                }));
        node = cluster.node("node", SwarmConfig.defaults());
        RegistryClient client = RegistryClient.builder(URI.create(origin.url())).build();
        PullThroughProvider pullThrough = new PullThroughProvider(client, node.store(), node.swarm(), cluster.pool,
                Duration.ofMinutes(2));
        ProviderLookup heldLookup = (digest, timeout) -> {
            lookupEntered.countDown();
            try {
                lookupRelease.await(2, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            lookupReturned.set(true);
            return 0;
        };
        PrivateBlobs privateBlobs = PrivateBlobs.open(tmp.resolve("private-blobs"));
        provider = new NodeContentProvider(UpstreamRouter.namespaceOf(client.baseUri()), pullThrough, node.store(),
                node.swarm(), heldLookup, null, d -> { }, d -> () -> { }, e -> { },
                new UpstreamAccess(client, privateBlobs), privateBlobs, cluster.pool);
        // the manifest gives the mirror the blob sizes, as a client's pull does
        assertTrue(provider.manifest(REPO, "1.0", List.of()).isPresent());
    }

    @AfterEach
    void tearDown() throws Exception {
        lookupRelease.countDown();
        cluster.close();
    }

    private byte[] manifestJson() {
        return ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + Digest.sha256(config) + "\",\"size\":" + config.length + "},"
                + "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\""
                + Digest.sha256(layer) + "\",\"size\":" + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
    }

    /** Gets the blob through the node's mirror content, the whole of it, off the test thread. */
    private CompletableFuture<byte[]> served(Digest digest) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                BlobContent b = provider.blob(REPO, digest).orElseThrow();
                try (b; InputStream in = b.open(0, b.size())) {
                    return in.readAllBytes();
                }
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, cluster.pool);
    }

    @Test
    void aOnePieceBlobComesFromTheRegistryWhileTheProviderLookupIsStillOut() throws Exception {
        assertEquals(1, node.swarm().layoutFor(config.length).count());
        byte[] got = served(Digest.sha256(config)).get(60, TimeUnit.SECONDS);
        assertArrayEquals(config, got);
        assertTrue(lookupEntered.await(60, TimeUnit.SECONDS), "the providers are still looked up");
        assertFalse(lookupReturned.get(), "the blob was served before the lookup returned");
        node.swarm().committed(Digest.sha256(config)).get(60, TimeUnit.SECONDS);
    }

    @Test
    void aBlobOfSeveralPiecesWaitsForTheProviderLookup() throws Exception {
        Digest d = Digest.sha256(layer);
        assertTrue(node.swarm().layoutFor(layer.length).count() > 1);
        CompletableFuture<byte[]> got = served(d);
        assertTrue(lookupEntered.await(60, TimeUnit.SECONDS));
        // the lookup is held, so no fetch may have started: the swarm neither holds nor fetches the blob
        ExecutionException notFetching = assertThrows(ExecutionException.class,
                () -> node.swarm().committed(d).get(60, TimeUnit.SECONDS));
        assertTrue(notFetching.getCause().getMessage().contains("neither held nor being fetched"),
                notFetching.getCause().toString());
        assertFalse(got.isDone());
        lookupRelease.countDown();
        assertArrayEquals(layer, got.get(60, TimeUnit.SECONDS));
    }
}
