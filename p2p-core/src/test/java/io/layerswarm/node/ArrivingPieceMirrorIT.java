package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.layerswarm.mirror.DistributionServer;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.oci.Digest;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.testing.Await;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mirror hands a client the registry's bytes of the first piece as they arrive, before the piece
 * is complete; if that registry request then fails mid-piece, the piece is fetched again (the registry
 * is retried, not banned) and the client that got its first bytes goes on with the new copy's bytes
 * (the digest of what it was sent is checked before its last byte). The registry is a small HTTP
 * server in the test that can stop in the middle of a
 * piece: it sends the first {@link #HALF} bytes of the range starting at 0, waits for the test, then
 * sends the rest or breaks the connection.
 */
class ArrivingPieceMirrorIT {
    static final int PIECE = 256 * 1024;
    static final int HALF = 100_000;
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d+)");

    @TempDir
    Path tmp;
    TestCluster cluster;
    byte[] blob;
    Digest digest;
    HttpServer registry;
    TestCluster.Node node;
    /** Released by the test: the held first-piece request goes on (or breaks). */
    final CountDownLatch release = new CountDownLatch(1);
    volatile boolean breakFirstPiece;
    final AtomicInteger firstPieceRequests = new AtomicInteger();

    @BeforeEach
    void setUp() throws Exception {
        cluster = new TestCluster(tmp);
        blob = LayerSwarmIT.realBlob();
        digest = Digest.sha256(blob);
        registry = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        registry.setExecutor(cluster.pool);
        registry.createContext("/v2/", this::serve);
        registry.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        release.countDown();
        registry.stop(0);
        cluster.close();
    }

    private void serve(HttpExchange x) throws IOException {
        try (x) {
            if (!x.getRequestURI().getPath().equals("/v2/edge/app/blobs/" + digest)) {
                x.sendResponseHeaders(404, -1);
                return;
            }
            if (x.getRequestMethod().equals("HEAD")) {
                x.getResponseHeaders().set("Content-Length", String.valueOf(blob.length));
                x.sendResponseHeaders(200, -1);
                return;
            }
            Matcher m = RANGE.matcher(String.valueOf(x.getRequestHeaders().getFirst("Range")));
            if (!m.matches()) {
                x.sendResponseHeaders(416, -1);
                return;
            }
            int first = Integer.parseInt(m.group(1));
            int last = Math.min(Integer.parseInt(m.group(2)), blob.length - 1);
            x.getResponseHeaders().set("Content-Range", "bytes " + first + "-" + last + "/" + blob.length);
            x.sendResponseHeaders(206, last - first + 1);
            OutputStream out = x.getResponseBody();
            if (first == 0 && firstPieceRequests.incrementAndGet() == 1) {
                out.write(blob, 0, HALF);
                out.flush();
                if (!release.await(2, TimeUnit.MINUTES)) {
                    throw new IOException("the test never released the first piece");
                }
                if (breakFirstPiece) {
                    // the registry connection breaks mid-piece: the client of the mirror has the first HALF bytes
                    throw new IOException("test: connection broken in the middle of piece 0");
                }
                out.write(blob, HALF, last + 1 - HALF);
                return;
            }
            out.write(blob, first, last - first + 1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    URI mirror() throws Exception {
        TestCluster.Node n = cluster.node("node", SwarmConfig.defaults().withPieceSize(PIECE));
        node = n;
        RegistryClient client = RegistryClient.builder(URI.create("http://127.0.0.1:" + registry.getAddress().getPort())).build();
        DistributionServer mirror = cluster.add(DistributionServer.start(new InetSocketAddress("127.0.0.1", 0),
                new PullThroughProvider(client, n.store(), n.swarm(), cluster.pool, Duration.ofMinutes(2))));
        return URI.create(mirror.url());
    }

    /** The first {@code n} bytes of the body, read while the registry still holds the rest of piece 0. */
    byte[] head(InputStream body, int n) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return body.readNBytes(n);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, cluster.pool).get(2, TimeUnit.MINUTES);
    }

    @Test
    void theClientGetsTheFirstPiecesBytesBeforeItIsCompleteAndTheWholeBlobIntact() throws Exception {
        URI mirror = mirror();
        HttpResponse<InputStream> r = StreamingMirrorIT.get(mirror, digest);
        assertEquals(200, r.statusCode());
        try (InputStream body = r.body()) {
            byte[] head = head(body, HALF);
            assertArrayEquals(Arrays.copyOf(blob, HALF), head, "piece 0's first bytes, the piece still incomplete");
            release.countDown();
            byte[] rest = body.readAllBytes();
            assertEquals(blob.length - HALF, rest.length);
            assertArrayEquals(Arrays.copyOfRange(blob, HALF, blob.length), rest);
        }
        assertEquals(1, firstPieceRequests.get(), "piece 0 was fetched once");
    }

    @Test
    void aRegistryFailureInTheMiddleOfAPieceWhoseBytesWereSentDoesNotFailTheClient() throws Exception {
        breakFirstPiece = true;
        URI mirror = mirror();
        HttpResponse<InputStream> r = StreamingMirrorIT.get(mirror, digest);
        assertEquals(200, r.statusCode());
        try (InputStream body = r.body()) {
            assertArrayEquals(Arrays.copyOf(blob, HALF), head(body, HALF));
            release.countDown();
            byte[] rest = body.readAllBytes();
            assertArrayEquals(Arrays.copyOfRange(blob, HALF, blob.length), rest,
                    "the client goes on with the piece fetched again");
        }
        // the registry was asked again (not banned) and the node got the blob, for the next client too
        assertTrue(firstPieceRequests.get() >= 2, "piece 0 asked again: " + firstPieceRequests.get());
        Await.until(Duration.ofMinutes(1), "the node committed the blob", () -> node.store().size(digest).isPresent());
        HttpResponse<InputStream> again = StreamingMirrorIT.get(mirror, digest);
        try (InputStream body = again.body()) {
            assertArrayEquals(blob, body.readAllBytes());
        }
    }
}
