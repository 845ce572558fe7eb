package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.mirror.BlobContent;
import io.layerswarm.mirror.ContentProvider;
import io.layerswarm.mirror.DistributionServer;
import io.layerswarm.mirror.ManifestContent;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.oci.Digest;
import io.layerswarm.registry.RegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pull-through mirror streams a blob while it arrives: verified pieces go to the client in order,
 * the last byte only after the whole blob matched its digest. The upstream is our own distribution
 * server over an in-test provider, so it can hold back a piece or serve corrupt bytes.
 */
class StreamingMirrorIT {
    static final int PIECE = 256 * 1024;

    @TempDir
    Path tmp;
    TestCluster cluster;
    byte[] blob;
    Digest digest;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new TestCluster(tmp);
        blob = LayerSwarmIT.realBlob();
        digest = Digest.sha256(blob);
    }

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    /** Serves {@code bytes} as blob {@code digest}; a range reaching past {@code holdFrom} waits for {@code release}. */
    static ContentProvider upstream(Digest digest, byte[] bytes, long holdFrom, CountDownLatch release) {
        return new ContentProvider() {
            @Override
            public Optional<ManifestContent> manifest(String repository, String reference, List<String> accept) {
                return Optional.empty();
            }

            @Override
            public Optional<BlobContent> blob(String repository, Digest d) {
                if (!d.equals(digest)) {
                    return Optional.empty();
                }
                BlobContent all = BlobContent.ofBytes(bytes);
                return Optional.of(new BlobContent() {
                    @Override
                    public long size() {
                        return bytes.length;
                    }

                    @Override
                    public InputStream open(long offset, long length) throws IOException {
                        if (offset + length > holdFrom) {
                            try {
                                if (!release.await(2, TimeUnit.MINUTES)) {
                                    throw new IOException("test never released the held piece");
                                }
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                throw new IOException(e);
                            }
                        }
                        return all.open(offset, length);
                    }
                });
            }
        };
    }

    /** A node with its mirror pulling through {@code upstream}; returns the mirror's base URL. */
    URI mirror(ContentProvider upstream) throws Exception {
        DistributionServer origin = cluster.add(DistributionServer.start(new InetSocketAddress("127.0.0.1", 0), upstream));
        TestCluster.Node n = cluster.node("node", SwarmConfig.defaults().withPieceSize(PIECE));
        RegistryClient client = RegistryClient.builder(URI.create(origin.url())).build();
        DistributionServer mirror = cluster.add(DistributionServer.start(new InetSocketAddress("127.0.0.1", 0),
                new PullThroughProvider(client, n.store(), n.swarm(), cluster.pool, Duration.ofMinutes(2))));
        return URI.create(mirror.url());
    }

    static HttpResponse<InputStream> get(URI mirror, Digest digest) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(mirror.resolve("/v2/edge/app/blobs/" + digest)).GET().build();
        return HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofInputStream());
    }

    @Test
    void theClientGetsVerifiedPiecesWhileTheLastOneIsStillOnTheWay() throws Exception {
        long lastPiece = (blob.length - 1) / PIECE * (long) PIECE;
        CountDownLatch release = new CountDownLatch(1);
        URI mirror = mirror(upstream(digest, blob, lastPiece, release));
        HttpResponse<InputStream> r = get(mirror, digest);
        assertEquals(200, r.statusCode());
        assertEquals(String.valueOf(blob.length), r.headers().firstValue("content-length").orElseThrow());
        try (InputStream body = r.body()) {
            // everything before the held piece arrives although the blob cannot be complete yet
            byte[] head = CompletableFuture.supplyAsync(() -> {
                try {
                    return body.readNBytes((int) lastPiece);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, cluster.pool).get(2, TimeUnit.MINUTES);
            assertArrayEquals(java.util.Arrays.copyOf(blob, (int) lastPiece), head);
            release.countDown();
            byte[] rest = body.readAllBytes();
            assertEquals(blob.length - lastPiece, rest.length);
            assertArrayEquals(java.util.Arrays.copyOfRange(blob, (int) lastPiece, blob.length), rest);
        }
    }

    @Test
    void aBlobThatDoesNotMatchItsDigestIsCutShortNeverServedWhole() throws Exception {
        byte[] corrupt = blob.clone();
        corrupt[3 * PIECE + 17] ^= 0x40; // the registry is the root of trust: only the digest can catch this
        URI mirror = mirror(upstream(digest, corrupt, Long.MAX_VALUE, new CountDownLatch(0)));
        HttpResponse<InputStream> r = get(mirror, digest);
        assertEquals(200, r.statusCode(), "headers go out before the blob is complete");
        long received = 0;
        IOException cut = null;
        try (InputStream body = r.body()) {
            byte[] buf = new byte[65536];
            int n;
            while ((n = body.read(buf)) > 0) {
                received += n;
            }
        } catch (IOException e) {
            cut = e;
        }
        assertTrue(received < blob.length, "received " + received + " of " + blob.length + " bytes of a wrong blob");
        assertTrue(cut != null, "the body ended early without an error after " + received + " bytes");
        assertTrue(Files.notExists(tmp.resolve("node").resolve(digest.hex())), "a wrong blob was committed");
    }
}
