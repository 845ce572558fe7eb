package io.layerswarm.daemon.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.sim.TraceEvent;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The testbed driver's pure parts: kubelet's image GC, the scheduler's pick, trace scaling, aggregation. */
class TestbedLogicTest {
    private static final long MB = 1_000_000;

    @Test
    void imageGcWaitsForTheHighMarkThenRemovesLeastRecentlyUsedDownToTheLowMark() {
        KubeletImageGc gc = new KubeletImageGc(100 * MB);
        gc.used("a", Map.of("base", 40 * MB, "a1", 10 * MB));
        gc.used("b", Map.of("base", 40 * MB, "b1", 20 * MB));
        assertEquals(70 * MB, gc.usedBytes(), "the shared base counts once");
        assertEquals(List.of(), gc.collect(), "70 % is below the 85 % high mark");
        gc.used("a", Map.of("base", 40 * MB, "a1", 10 * MB)); // a is now the most recent
        gc.used("c", Map.of("c1", 20 * MB));
        assertEquals(90 * MB, gc.usedBytes());
        assertEquals(List.of("b"), gc.collect(), "b is least recently used; 70 MB <= 80 % afterwards");
        assertTrue(gc.has("a") && gc.has("c") && !gc.has("b"));
    }

    @Test
    void imageGcAtCapacityZeroKeepsNothing() {
        KubeletImageGc gc = new KubeletImageGc(0);
        gc.used("a", Map.of("l", 5L));
        gc.used("b", Map.of("m", 5L));
        assertEquals(List.of("a", "b"), gc.collect());
        assertEquals(0, gc.usedBytes());
        assertThrows(IllegalArgumentException.class, () -> new KubeletImageGc(-1));
    }

    @Test
    void pickWeighsTheScoreByTenAgainstLeastAllocatedAndSkipsFullNodes() {
        List<String> nodes = List.of("n0", "n1", "n2");
        // n1 holds the image (score 10 -> +100) but runs 2 of 4 pods (-50): 150 against n0's 100
        assertEquals("n1", KubeScheduling.pick(nodes, Map.of("n1", 10), Map.of("n1", 2), 4));
        // a score of 4 (+40) does not outweigh three running pods (-75)
        assertEquals("n0", KubeScheduling.pick(nodes, Map.of("n1", 4.2), Map.of("n1", 3), 4));
        assertEquals("n2", KubeScheduling.pick(nodes, Map.of("n0", 10, "n1", 10), Map.of("n0", 4, "n1", 4), 4));
        assertNull(KubeScheduling.pick(nodes, Map.of(), Map.of("n0", 1, "n1", 1, "n2", 1), 1));
    }

    @Test
    void theDecisionLogListsEveryCandidateInOrderWithMissingValuesAsZero() {
        assertEquals("n0=4.00,n1=0.00,n2=10.00",
                KubeScheduling.describe(List.of("n0", "n1", "n2"), Map.of("n2", 10, "n0", 3.999)));
        assertEquals("", KubeScheduling.describe(List.of(), Map.of("n0", 1)));
    }

    @Test
    void traceScalingKeepsOrderMapsImagesByPopularityAndNodesToClusters() {
        List<TraceEvent> raw = List.of(new TraceEvent(1000, "node-0", "rare:1"), new TraceEvent(2000, "node-1", "hot:1"),
                new TraceEvent(3000, "node-2", "hot:1"), new TraceEvent(5000, "node-3", "mid:1"),
                new TraceEvent(9000, "node-5", "mid:1"), new TraceEvent(9999, "node-0", "hot:1"));
        List<TraceEvent> t = TestbedTrace.scale(raw, 5, 800, List.of("nginx:1.22", "redis:7.0"), 2);
        assertEquals(List.of(new TraceEvent(0, "cluster-0", "nginx:1.22"), new TraceEvent(100, "cluster-1", "nginx:1.22"),
                new TraceEvent(200, "cluster-0", "nginx:1.22"), new TraceEvent(400, "cluster-1", "redis:7.0"),
                new TraceEvent(800, "cluster-1", "redis:7.0")), t,
                "hot and mid (2 requests each, hot first) take the first two images, rare wraps to the first");
        assertEquals(1, TestbedTrace.cluster(t.get(1)));
        assertThrows(IllegalArgumentException.class, () -> TestbedTrace.scale(raw, 7, 800, List.of("x:1"), 2));
        assertThrows(IllegalArgumentException.class, () -> TestbedTrace.cluster(raw.get(0)));
        assertThrows(IllegalArgumentException.class, () -> TestbedTrace.cluster(new TraceEvent(0, "cluster-x", "a:1")));
    }

    @Test
    void runAggregatesMeanNearestRankP95HitRatioAndSpeedUp() {
        List<Double> s = new java.util.ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            s.add((double) i);
        }
        List<TestbedRun.Phases> p = java.util.Collections.nCopies(20, new TestbedRun.Phases(0.5, 1, 8, 1));
        TestbedRun base = new TestbedRun("baseline", 200L << 20, 200L << 20, s, p, 1000, 600, PeerBytes.NONE, 0);
        assertEquals(10.5, base.mean(), 1e-9);
        assertEquals(19.0, base.p95(), 1e-9, "nearest rank: the 19th of 20");
        assertEquals(0.4, base.hitRatio(), 1e-9);
        TestbedRun full = new TestbedRun("full", 200L << 20, 200L << 20, List.of(3.5, 3.5),
                List.of(new TestbedRun.Phases(0, 0, 2, 1), new TestbedRun.Phases(1, 0, 1, 1)), 1000, 100,
                new PeerBytes(70, 30), 1);
        assertEquals("| 200 MiB | full | 2 | 3.50 | 3.50 | 3.00x | 0.900 | 100 | 30 | 0.50 / 0.00 / 1.50 / 1.00 | 1 |",
                full.row(base));
        TestbedRun scaled = new TestbedRun("preheat", 500_000_000, TestbedRun.scaled(500_000_000, 0.125), List.of(1.0),
                List.of(new TestbedRun.Phases(0, 0, 0, 1)), 10, 0, PeerBytes.NONE, 0);
        assertTrue(scaled.row(null).startsWith("| 500MB (62.50MB) | preheat | 1 | 1.00 | 1.00 | - | 1.000 | 0 | 0 |"),
                scaled.row(null));
        assertTrue(Double.isNaN(new TestbedRun("x", 0, 0, List.of(), List.of(), 0, 0, PeerBytes.NONE, 0).p95()));
    }

    @Test
    void cacheScaleMultipliesTheNominalSizeAndRefusesNonPositiveScales() {
        assertEquals(62_500_000, TestbedRun.scaled(500_000_000, 0.125));
        assertEquals(0, TestbedRun.scaled(0, 0.125));
        assertEquals(2_000_000_000, TestbedRun.scaled(2_000_000_000, 1));
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThrows(IllegalArgumentException.class, () -> TestbedRun.scaled(1, bad), "scale " + bad);
        }
        assertEquals("0 MiB", TestbedRun.label(0, 0));
        assertEquals("1GB (125MB)", TestbedRun.label(1_000_000_000, 125_000_000));
    }

    @Test
    void gridCacheRunsEveryModeThereAndOnlyTheFirstAndLastElsewhere() {
        List<String> modes = List.of("baseline", "swarm", "full", "preheat");
        assertEquals(modes, TestbedBench.rowModes(modes, null, 0));
        assertEquals(modes, TestbedBench.rowModes(modes, 500_000_000L, 500_000_000));
        assertEquals(List.of("baseline", "preheat"), TestbedBench.rowModes(modes, 500_000_000L, 0));
        assertEquals(List.of("swarm", "full"), TestbedBench.rowModes(List.of("swarm", "full"), 500_000_000L, 0));
    }

    @Test
    void peerBytesSplitsEachBlobsSourcesByTheClusterOfThePeer() {
        Map<String, Integer> clusterOf = Map.of("12D3KooWa", 0, "12D3KooWb", 0, "12D3KooWc", 1);
        List<String> log = List.of(
                "12:00:00.001 INFO  i.l.s.BlobDownload event=blob_downloaded blob=sha256:aa bytes=300 origin_bytes=100"
                        + " sources={registry:127.0.0.1:5000=100, 12D3KooWb=150, 12D3KooWc=50} bad_pieces=0 ms=12",
                "12:00:00.002 INFO  i.l.s.BlobDownload event=blob_downloaded blob=sha256:bb bytes=7 origin_bytes=0"
                        + " sources={12D3KooWc=7} bad_pieces=0 ms=1",
                "12:00:00.003 INFO  i.l.s.BlobDownload event=blob_downloaded blob=sha256:cc bytes=9 origin_bytes=0"
                        + " sources={12D3KooWunknown=9} bad_pieces=0 ms=1",
                "event=blob_fetched ns=x repo=y blob=sha256:aa bytes=300 peer_bytes=200 registry_bytes=100 sources=[a]");
        assertEquals(new PeerBytes(150, 57), PeerBytes.of(clusterOf, 0, log.stream()));
        assertEquals(new PeerBytes(57, 150), PeerBytes.of(clusterOf, 1, log.stream()), "node in cluster 1: c is its own");
        assertEquals(new PeerBytes(150, 57), PeerBytes.NONE.plus(PeerBytes.of(clusterOf, 0, log.stream())));
    }

    @Test
    void peerBytesIgnoresGarbage() {
        Map<String, Integer> clusterOf = Map.of("p", 1);
        List<String> garbage = List.of("", "event=blob_downloaded", "event=blob_downloaded sources={",
                "event=blob_downloaded sources={p=}", "event=blob_downloaded sources={p=99999999999999999999999}",
                "event=blob_downloaded sources={=5, p=-3, p}", "sources={p=5}", "\u0000{}}=={{");
        assertEquals(PeerBytes.NONE, PeerBytes.of(clusterOf, 0, garbage.stream()));
        assertEquals(new PeerBytes(0, 4), PeerBytes.of(clusterOf, 0,
                Stream.of("x event=blob_downloaded a=1 sources={p=4} sources={p=100}")), "the first sources= only");
    }

    /** The refactored images are known by their manifests only: layers, config size and digest from the bytes. */
    @Test
    void registryImageReadsAManifestAndRefusesGarbage() throws Exception {
        String a = "sha256:" + "aa".repeat(32);
        String b = "sha256:" + "bb".repeat(32);
        String c = "sha256:" + "cc".repeat(32);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + c
                + "\",\"size\":558},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                + "\"digest\":\"" + a + "\",\"size\":1000},"
                + "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + b
                + "\",\"size\":20}]}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        RegistryImage i = RegistryImage.parse("nginx", "1.22-rf", manifest);
        assertEquals("nginx:1.22-rf", i.image().ref());
        assertEquals(List.of(a, b), i.image().layers().stream().map(io.layerswarm.testing.Corpus.Layer::digest).toList());
        assertEquals(558, i.configSize());
        assertEquals(1578, i.image().totalSize());
        assertEquals(c, i.image().configDigest());
        assertEquals("sha256:" + java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(manifest)), i.image().manifestDigest());
        for (String bad : List.of("", "null", "[1,2]", "{\"layers\":[]}", "{\"config\":{\"digest\":\"x\"},\"layers\":{}}",
                "{\"config\":{\"digest\":\"x\",\"size\":1},\"layers\":[{\"size\":1}]}",
                "{\"config\":{\"digest\":\"x\",\"size\":1},\"layers\":[{\"digest\":\"y\",\"size\":-4}]}",
                "{\"config\":{\"digest\":\"x\"},\"layers\":[]}", "{\"config\": [")) {
            assertThrows(java.io.IOException.class, () -> RegistryImage.parse("n", "t",
                    bad.getBytes(java.nio.charset.StandardCharsets.UTF_8)), bad);
        }
    }

    @Test
    void theSmallestCacheGetsABaselineLaneToItselfAndTheOthersShareTheRest() {
        List<Long> caches = List.of(0L, 500 * MB, 1000 * MB, 2000 * MB);
        assertEquals(List.of(List.of(0L), List.of(500 * MB, 1000 * MB, 2000 * MB)), TestbedBench.lanePlan(caches, 2));
        assertEquals(List.of(caches), TestbedBench.lanePlan(caches, 1));
        assertEquals(List.of(List.of(0L), List.of(500 * MB, 2000 * MB), List.of(1000 * MB)),
                TestbedBench.lanePlan(caches, 3));
        assertEquals(List.of(List.of(0L), List.of(500 * MB)), TestbedBench.lanePlan(List.of(0L, 500 * MB), 4),
                "no lane without a row");
    }

    @Test
    void rowsAreReportedByCacheSizeThenInTheIssuesOrderOfModes() {
        TestbedRun.Phases p = new TestbedRun.Phases(0, 0, 1, 0);
        List<TestbedRun> finished = Stream.of("refactored@500", "baseline@1000", "baseline@500", "swarm@500",
                "baseline@0").map(r -> new TestbedRun(r.split("@")[0], Long.parseLong(r.split("@")[1]) * MB,
                1, List.of(1.0), List.of(p), 1, 0, PeerBytes.NONE, 0)).toList();
        assertEquals(List.of("baseline@0", "baseline@500", "swarm@500", "refactored@500", "baseline@1000"),
                TestbedBench.ordered(finished).stream().map(r -> r.mode() + "@" + r.nominal() / MB).toList());
    }

    @Test
    void baselineLanesOutside1To4AreRefusedBeforeAnythingStarts() {
        for (String bad : List.of("0", "5")) {
            assertRefused("--baseline-lanes", bad, "--baseline-lanes in 1..4");
        }
    }

    @Test
    void aWarmupSizeOutside0To1024MibIsRefusedBeforeAnythingStarts() {
        for (String bad : List.of("-1", "1025")) {
            assertRefused("--warmup-mb", bad, "--warmup-mb in 0..1024");
        }
    }

    /** The driver exits with 2 and names the rule; paths that do not exist: the check comes before any is touched. */
    private static void assertRefused(String option, String value, String rule) {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream before = System.err;
        int rc;
        System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            rc = new picocli.CommandLine(new TestbedBench()).execute("--corpus", "/nonexistent/corpus", "--trace",
                    "/nonexistent/trace.jsonl", "--launcher", "/nonexistent/layerswarm", "--work", "/nonexistent/work",
                    "--inter-cluster-rtt-ms", "0", option, value); // no delay line needed: only the option is wrong
        } finally {
            System.setErr(before);
        }
        assertEquals(2, rc, option + " " + value);
        assertTrue(err.toString(java.nio.charset.StandardCharsets.UTF_8).contains(rule), err::toString);
    }
}
