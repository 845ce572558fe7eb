package io.layerswarm.cache.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kills a child JVM with SIGKILL in the middle of an ingest and checks the store recovers cleanly. */
class ContentStoreCrashIT {
    @TempDir
    Path dir;

    @Test
    void killDashNineMidIngestLeavesOnlyVerifiedBlobs() throws Exception {
        Path root = dir.resolve("store");
        TreeSet<Digest> committed = new TreeSet<>();
        try (ContentStore store = ContentStore.open(root)) {
            for (int i = 0; i < 3; i++) {
                byte[] data = ContentStoreTest.random(30_000, i);
                Digest d = Digest.sha256(data);
                store.ingest(d, new ByteArrayInputStream(data));
                committed.add(d);
            }
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                CrashingIngester.class.getName(), root.toString(), "4")
                .redirectErrorStream(true).start();
        Digest slow = null;
        List<String> output = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                output.add(line);
                if (line.startsWith("COMMITTED ")) {
                    committed.add(Digest.parse(line.substring(10)));
                } else if (line.startsWith("SLOW ")) {
                    slow = Digest.parse(line.substring(5));
                } else if (line.equals("INGESTING")) {
                    break;
                }
            }
            assertNotNull(slow, "child never started its slow ingest; output: " + output);
            try (var s = Files.list(root.resolve("ingest"))) {
                assertEquals(2, s.count(), "expected the ingest temp file and the partial blob mid-flight");
            }
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        assertFalse(output.contains("FINISHED (the parent should have killed us first)"));
        assertEquals(7, committed.size());

        try (ContentStore store = ContentStore.open(root)) {
            try (var s = Files.list(root.resolve("ingest"))) {
                assertEquals(List.of(), s.collect(Collectors.toList()), "stale temp files must be removed");
            }
            assertFalse(store.contains(slow), "a killed ingest must not leave a blob");
            assertEquals(committed, store.list().stream().map(BlobInfo::digest)
                    .collect(Collectors.toCollection(TreeSet::new)));
            for (Digest d : committed) {
                store.verify(d);
            }
        }
    }
}
