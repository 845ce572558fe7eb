package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.Promtool;
import io.layerswarm.testing.RegistryFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node process with {@code --metrics-listen}: skopeo pulls an image through its mirror, then
 * {@code /metrics} is scraped, checked with {@code promtool check metrics} and against what the pull
 * must have cost; {@code /healthz} answers 200 while the node serves.
 */
class NodeMetricsIT {
    @TempDir
    Path tmp;
    private final Closer open = new Closer();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void tearDown() throws Exception {
        open.close();
    }

    @Test
    void scrapeOfARunningNodeCountsThePullAndPassesPromtool() throws Exception {
        Corpus.Image image = Corpus.small().images().get(0);
        RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN);
        open.add(registry);
        NodeProcess.run(120, "skopeo", "copy", "-q", "--dest-tls-verify=false", image.ociReference(),
                "docker://" + registry.hostPort() + "/ops/app:1");
        NodeProcess node = NodeProcess.start("metrics", tmp.resolve("node"), registry.baseUri().toString(),
                List.of("--metrics-listen", "127.0.0.1:0", "--max-upload-rate", "50MiB", "--cache-capacity", "1GiB"));
        open.add(node);
        String metricsUrl = node.awaitEvent(l -> l.startsWith("metrics http://"), 30).substring("metrics ".length());
        String base = metricsUrl.substring(0, metricsUrl.length() - "/metrics".length());

        HttpResponse<String> health = get(base + "/healthz");
        assertEquals(200, health.statusCode());
        assertEquals("ok\n", health.body());

        NodeProcess.run(300, "skopeo", "copy", "-q", "--src-tls-verify=false",
                "docker://" + node.mirror + "/ops/app:1", "oci:" + tmp.resolve("pulled") + ":1");

        HttpResponse<String> scrape = get(metricsUrl);
        assertEquals(200, scrape.statusCode());
        String text = scrape.body();
        assertEquals("", Promtool.checkMetrics(text), "promtool has no complaints");

        long blobBytes = Files.size(image.blob(image.configDigest()))
                + image.layers().stream().mapToLong(Corpus.Layer::size).sum();
        int blobs = image.layers().size() + 1;
        // one node, no peers: every blob byte came from the registry, verified, exactly once
        assertEquals(blobBytes, value(text, "layerswarm_fetched_bytes_total{source=\"registry\"}"), text);
        assertEquals(0, value(text, "layerswarm_fetched_bytes_total{source=\"peer\"}", 0), text);
        assertTrue(value(text, "layerswarm_pieces_verified_total{source=\"registry\"}") >= blobs, text);
        assertEquals(0, value(text, "layerswarm_pieces_rejected_total"), text);
        assertEquals(blobs, value(text, "layerswarm_cache_misses_total"), text);
        assertEquals(blobBytes, value(text, "layerswarm_cache_bytes"), text);
        assertEquals(1L << 30, value(text, "layerswarm_cache_capacity_bytes"), text);
        assertEquals(0, value(text, "layerswarm_active_downloads"), text);
        assertEquals(0, value(text, "layerswarm_p2p_connections"), text);
        assertEquals(0, value(text, "layerswarm_dht_routing_table_peers"), text);
        assertEquals(50L << 20, value(text, "layerswarm_p2p_upload_limit_bytes_per_second"), text);
        assertTrue(value(text, "layerswarm_mirror_request_duration_seconds_count{code=\"200\",method=\"GET\","
                + "route=\"blob\"}") >= blobs, text);
        assertTrue(text.contains("layerswarm_mirror_request_duration_seconds_bucket{code=\"200\",method=\"GET\","
                + "route=\"manifest\",le=\"+Inf\"}"), text);

        // skopeo again: everything is a hit now
        NodeProcess.run(300, "skopeo", "copy", "-q", "--src-tls-verify=false",
                "docker://" + node.mirror + "/ops/app:1", "oci:" + tmp.resolve("again") + ":1");
        String after = get(metricsUrl).body();
        assertTrue(value(after, "layerswarm_cache_hits_total") >= image.layers().size(), after);
        assertEquals(blobs, value(after, "layerswarm_cache_misses_total"), after);

        assertEquals(143, node.stop(), "SIGTERM");
        assertTrue(assertRefused(base + "/healthz"), "nothing answers once the node is gone");
    }

    private boolean assertRefused(String url) {
        try {
            get(url);
            return false;
        } catch (Exception e) {
            return true;
        }
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(java.time.Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The value of one sample line ({@code name{labels} value}) of a text exposition. */
    static long value(String text, String sample) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + " (\\S+)$").matcher(text);
        assertTrue(m.find(), "no sample " + sample);
        return (long) Double.parseDouble(m.group(1));
    }

    /** Like {@link #value(String, String)}, {@code absent} if the sample is not there (a label never used). */
    static long value(String text, String sample, long absent) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + " (\\S+)$").matcher(text);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : absent;
    }
}
