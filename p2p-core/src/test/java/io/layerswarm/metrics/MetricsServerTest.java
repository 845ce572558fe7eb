package io.layerswarm.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.node.NodeEvent;
import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import io.layerswarm.testing.Promtool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MetricsServerTest {
    private static final Digest BLOB = Digest.parse("sha256:" + "ab".repeat(32));
    private final HttpClient http = HttpClient.newHttpClient();
    private final AtomicBoolean serving = new AtomicBoolean(true);
    private final NodeMetrics metrics = new NodeMetrics();
    private MetricsServer server;

    @BeforeEach
    void start() throws IOException {
        server = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0), metrics.registry(), serving::get);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void eventsShowUpInTheScrapeWhichPromtoolAccepts() throws Exception {
        metrics.pieceAccepted(BLOB, "12D3KooWpeer", false, 1000);
        metrics.pieceAccepted(BLOB, "12D3KooWpeer", false, 500);
        metrics.pieceAccepted(BLOB, "registry:r:5000", true, 250);
        metrics.pieceRejected(BLOB, "12D3KooWliar");
        metrics.sourceBanned(BLOB, "12D3KooWliar", false, "bad piece 3");
        metrics.blobServed(new NodeEvent.BlobServed("r:5000", "app", BLOB, 10, true));
        metrics.blobServed(new NodeEvent.BlobServed("r:5000", "app", BLOB, 10, false));
        metrics.blobServed(new NodeEvent.BlobServed("r:5000", "app", BLOB, 10, false));
        metrics.requestServed("blob", "GET", 200, 3_000_000);

        HttpResponse<String> r = get("/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain"), r.headers().toString());
        String body = r.body();
        assertTrue(body.contains("layerswarm_fetched_bytes_total{source=\"peer\"} 1500.0"), body);
        assertTrue(body.contains("layerswarm_fetched_bytes_total{source=\"registry\"} 250.0"), body);
        assertTrue(body.contains("layerswarm_pieces_verified_total{source=\"peer\"} 2.0"), body);
        assertTrue(body.contains("layerswarm_pieces_rejected_total 1.0"), body);
        assertTrue(body.contains("layerswarm_peers_banned_total{source=\"peer\"} 1.0"), body);
        assertTrue(body.contains("layerswarm_cache_hits_total 1.0"), body);
        assertTrue(body.contains("layerswarm_cache_misses_total 2.0"), body);
        assertTrue(body.contains("layerswarm_mirror_request_duration_seconds_bucket{code=\"200\",method=\"GET\","
                + "route=\"blob\",le=\"0.004\"} 1"), body);
        assertEquals("", Promtool.checkMetrics(body));
    }

    @Test
    void healthzFollowsTheServingState() throws Exception {
        HttpResponse<String> ok = get("/healthz");
        assertEquals(200, ok.statusCode());
        assertEquals("ok\n", ok.body());
        serving.set(false);
        assertEquals(503, get("/healthz").statusCode());
        serving.set(true);
        assertEquals(200, get("/healthz?verbose=1").statusCode());
    }

    @Test
    void otherPathsAndMethodsAreRefused() throws Exception {
        assertEquals(404, get("/").statusCode());
        assertEquals(404, get("/metricsx").statusCode());
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + "/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
    }

    @Test
    void garbageGetsAnErrorAndTheServerKeepsServing() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(server.address(), 2000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write("\u0000\u0001GARBAGE not http\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            String reply = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(reply.isEmpty() || reply.startsWith("HTTP/1.1 4"), reply);
        }
        try (Socket s = new Socket()) {
            // a header section over the codec's limit
            s.connect(server.address(), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET /metrics HTTP/1.1\r\nX: " + "a".repeat(20_000) + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(reply.isEmpty() || reply.startsWith("HTTP/1.1 4"), reply);
        }
        assertEquals(200, get("/healthz").statusCode());
    }

    @Test
    void aBusyPortIsAClearError() throws Exception {
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> MetricsServer.start(server.address(), metrics.registry(), () -> true));
        assertTrue(e.getMessage().contains("cannot listen on"), e.getMessage());
    }
}
