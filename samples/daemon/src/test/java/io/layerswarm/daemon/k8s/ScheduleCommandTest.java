package io.layerswarm.daemon.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.daemon.CliRun;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code layerswarm schedule} and {@code placement-sim} end to end through {@link Main}, and {@code scheduler-extender}'s flag checks. */
class ScheduleCommandTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private Path write(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private static final String IMAGES = "{\"web:1\":{\"layers\":[{\"digest\":\"sha256:" + "a".repeat(64) + "\",\"size\":100000000},"
            + "{\"digest\":\"sha256:" + "b".repeat(64) + "\",\"size\":20000000}]},"
            + "\"other:1\":{\"layers\":[{\"digest\":\"sha256:" + "c".repeat(64) + "\",\"size\":5}]}}";

    private static String node(String name, long free, String layers) {
        return "{\"nodeName\":\"" + name + "\",\"layers\":{" + layers + "},\"capacityBytes\":1000000000,\"freeBytes\":" + free
                + ",\"evictableBytes\":0,\"registries\":{\"*\":{\"bytesPerSecond\":2500000,\"rttMillis\":50}},"
                + "\"peers\":{\"holder\":{\"bytesPerSecond\":100000000,\"rttMillis\":1}}}";
    }

    @Test
    void scoresChoosesAndPlans() throws Exception {
        Path images = write("images.json", IMAGES);
        Path view = write("view.json", "[" + node("holder", 800_000_000, "\"sha256:" + "a".repeat(64) + "\":100000000")
                + "," + node("empty", 900_000_000, "") + "," + node("full", 1_000, "") + "]");
        CliRun r = run("schedule", "--image", "web:1", "--view", view.toString(), "--images", images.toString(),
                "--nodes", "empty,full,holder,ghost", "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("holder", j.get("chosen").asText());
        assertTrue(j.get("nodes").get("full").get("filtered").asText().contains("cannot take"), r.out());
        assertEquals("not in the cluster view", j.get("nodes").get("ghost").get("note").asText());
        assertTrue(j.get("nodes").get("holder").get("score").asLong() > j.get("nodes").get("empty").get("score").asLong(), r.out());
        JsonNode plan = j.get("plan");
        assertEquals(1, plan.size(), r.out());
        assertEquals("sha256:" + "b".repeat(64), plan.get(0).get("layer").asText());
        assertEquals("REGISTRY", plan.get(0).get("kind").asText(), "no peer holds the app layer");
        assertEquals(20_000_000, j.get("registryBytes").asLong());
    }

    @Test
    void badInputIsAOneLineError() throws Exception {
        Path images = write("images.json", IMAGES);
        Path garbage = write("view.json", "[{\"nodeName\": 5, ");
        CliRun r = run("schedule", "--image", "web:1", "--view", garbage.toString(), "--images", images.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("schedule: malformed view"), r.err());
        Path view = write("ok.json", "[" + node("holder", 800_000_000, "") + "]");
        CliRun missing = run("schedule", "--image", "nope:1", "--view", view.toString(), "--images", images.toString());
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("nope:1 is not in the images file"), missing.err());
        CliRun noSource = run("schedule", "--image", "web:1", "--view", view.toString());
        assertEquals(2, noSource.status());
        assertTrue(noSource.err().contains("--images FILE or --upstream URL"), noSource.err());
        CliRun badPolicy = run("schedule", "--image", "web:1", "--view", view.toString(), "--images", images.toString(), "--scoring", "best");
        assertEquals(2, badPolicy.status());
    }

    @Test
    void placementSimPrintsATableAndRejectsUnknownPolicies() throws Exception {
        Path images = write("images.json", IMAGES);
        StringBuilder t = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            t.append("{\"ts\":").append(i).append(",\"node\":\"n").append(i % 3).append("\",\"image\":\"")
                    .append(i % 4 == 0 ? "other:1" : "web:1").append("\"}\n");
        }
        Path trace = write("trace.jsonl", t.toString());
        CliRun r = run("placement-sim", "--trace", trace.toString(), "--images", images.toString(), "--nodes", "4",
                "--capacity", "0,1GB", "--slots", "4", "--pod-window", "6");
        assertEquals(0, r.status(), r.err());
        assertEquals(2 + 2 * 5, r.out().strip().split("\n").length, r.out());
        assertTrue(r.out().contains("| 1.00 GiB | predicted-time | 20 |") || r.out().contains("| predicted-time | 20 |"), r.out());
        CliRun bad = run("placement-sim", "--trace", trace.toString(), "--images", images.toString(), "--scoring", "best");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("unknown scoring 'best'"), bad.err());
        CliRun measured = run("placement-sim", "--trace", trace.toString(), "--images", images.toString(), "--nodes", "4",
                "--capacity", "1GB", "--slots", "4", "--pod-window", "6", "--scoring", "layer-network,predicted-time",
                "--links", "measured", "--probe-bytes", "256KiB");
        assertEquals(0, measured.status(), measured.err());
        assertEquals(2 + 2, measured.out().strip().split("\n").length, measured.out());
        CliRun badLinks = run("placement-sim", "--trace", trace.toString(), "--images", images.toString(), "--links", "guessed");
        assertEquals(2, badLinks.status());
        assertTrue(badLinks.err().contains("unknown --links 'guessed'"), badLinks.err());
    }

    @Test
    void schedulerExtenderRefusesABadPreheatWindowBeforeStartingAnything() {
        for (String bad : new String[] {"PT-1S", "PT2M"}) {
            CliRun r = run("scheduler-extender", "--no-kubernetes", "--preheat-window", bad);
            assertEquals(2, r.status(), r.out() + r.err());
            assertTrue(r.err().contains("--preheat-window must be 0..PT1M"), r.err());
        }
    }
}
