package io.layerswarm.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@code trace-gen} and {@code cache-sim} end to end through {@link Main}. */
class CacheSimCommandTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static String d(String s) {
        return Digest.sha256(s.getBytes(StandardCharsets.UTF_8)).toString();
    }

    @Test
    void handWrittenTraceGivesTheComputedNumbers() throws Exception {
        Path images = dir.resolve("images.json");
        Files.writeString(images, "{\"a:1\": {\"layers\": [{\"digest\": \"" + d("L1") + "\", \"size\": \"4MB\"},"
                + " {\"digest\": \"" + d("L2") + "\", \"size\": 2000000}]},"
                + " \"b:1\": {\"layers\": [{\"digest\": \"" + d("L1") + "\", \"size\": 4000000},"
                + " {\"digest\": \"" + d("L3") + "\", \"size\": \"4MB\"}]}}");
        Path trace = dir.resolve("trace.jsonl");
        Files.writeString(trace, "{\"ts\":1,\"node\":\"n1\",\"image\":\"a:1\"}\n{\"ts\":2,\"node\":\"n2\",\"image\":\"a:1\"}\n"
                + "{\"ts\":3,\"node\":\"n1\",\"image\":\"b:1\"}\n{\"ts\":4,\"node\":\"n1\",\"image\":\"a:1\"}\n");
        CliRun r = run("cache-sim", "--trace", trace.toString(), "--images", images.toString(), "--nodes", "2",
                "--capacity", "0,8MB", "--policy", "lru", "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode arr = new ObjectMapper().readTree(r.out());
        assertEquals(2, arr.size());
        JsonNode zero = arr.get(0);
        assertEquals(0, zero.get("capacityBytes").asLong());
        assertEquals(26_000_000L, zero.get("registryBytes").asLong(), "nothing cached: all from the registry");
        JsonNode eight = arr.get(1);
        assertEquals("lru", eight.get("policy").asText());
        assertEquals(8_000_000L, eight.get("capacityBytes").asLong());
        assertEquals(4, eight.get("requests").asLong());
        assertEquals(0.25, eight.get("hitRatio").asDouble(), 1e-12);
        assertEquals(8.0 / 26, eight.get("byteHitRatio").asDouble(), 1e-12);
        assertEquals(16.0 / 26, eight.get("clusterByteHitRatio").asDouble(), 1e-12);
        assertEquals(10_000_000L, eight.get("registryBytes").asLong());
    }

    @Test
    void generatedTraceAllPoliciesConsistent() throws Exception {
        Path base = dir.resolve("base.json");
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < 12; i++) {
            sb.append(i == 0 ? "" : ",").append("\"deb").append(i).append(":1\": {\"layers\": [")
                    .append("{\"digest\": \"").append(d("debian")).append("\", \"size\": \"50MB\"},")
                    .append("{\"digest\": \"").append(d("p" + i)).append("\", \"size\": ").append(10_000_000 * (i + 1))
                    .append("}]}");
        }
        Files.writeString(base, sb.append("}").toString());
        Path trace = dir.resolve("trace.jsonl");
        Path images = dir.resolve("images.json");
        CliRun gen = run("trace-gen", "--base-images", base.toString(), "--out-trace", trace.toString(),
                "--out-images", images.toString(), "--nodes", "4", "--requests", "2000", "--seed", "9");
        assertEquals(0, gen.status(), gen.err());
        assertTrue(gen.err().contains("topOnePercentShare="), gen.err());
        assertEquals(2000, Files.readAllLines(trace).size());

        CliRun sim = run("cache-sim", "--trace", trace.toString(), "--images", images.toString(), "--nodes", "4",
                "--capacity", "0,200MB,1GiB", "--policy", "all", "--json");
        assertEquals(0, sim.status(), sim.err());
        JsonNode arr = new ObjectMapper().readTree(sim.out());
        assertEquals(3 * 6, arr.size());
        Set<String> policies = new HashSet<>();
        for (JsonNode n : arr) {
            policies.add(n.get("policy").asText());
            assertEquals(2000, n.get("requests").asLong());
            double hit = n.get("hitRatio").asDouble();
            double bytes = n.get("byteHitRatio").asDouble();
            double cluster = n.get("clusterByteHitRatio").asDouble();
            long requested = n.get("requestedBytes").asLong();
            assertTrue(hit >= 0 && hit <= 1 && bytes >= 0 && bytes <= 1 && cluster >= bytes && cluster <= 1, n.toString());
            assertEquals(Math.round(requested * (1 - cluster)), n.get("registryBytes").asLong(), "registryBytes = missed bytes");
            if (n.get("capacityBytes").asLong() == 0) {
                assertEquals(requested, n.get("registryBytes").asLong());
            } else {
                assertTrue(hit > 0, n.toString());
            }
        }
        assertEquals(Set.of("arc", "lru", "tinylfu", "image-lru", "k8s-gc", "cluster-arc"), policies);
    }

    @Test
    void badInputFailsWithAClearMessage() throws Exception {
        Path trace = dir.resolve("t.jsonl");
        Files.writeString(trace, "{\"ts\":1,\"node\":\"n1\",\"image\":\"a:1\"}\n");
        Path images = dir.resolve("i.json");
        Files.writeString(images, "{\"a:1\": {\"layers\": []}}");
        CliRun badPolicy = run("cache-sim", "--trace", trace.toString(), "--images", images.toString(), "--nodes", "1",
                "--capacity", "1GB", "--policy", "fifo");
        assertEquals(2, badPolicy.status());
        assertTrue(badPolicy.err().contains("unknown cache policy 'fifo'"), badPolicy.err());
        CliRun badSize = run("cache-sim", "--trace", trace.toString(), "--images", images.toString(), "--nodes", "1",
                "--capacity", "lots");
        assertEquals(2, badSize.status());
        assertTrue(badSize.err().contains("invalid size 'lots'"), badSize.err());
        Files.writeString(images, "{\"a:1\": ");
        CliRun badImages = run("cache-sim", "--trace", trace.toString(), "--images", images.toString(), "--nodes", "1",
                "--capacity", "1GB");
        assertEquals(2, badImages.status());
        assertTrue(badImages.err().contains("not valid JSON"), badImages.err());
    }
}
