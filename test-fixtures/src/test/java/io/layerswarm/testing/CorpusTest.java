package io.layerswarm.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusTest {
    private static final String D1 = "sha256:" + "a".repeat(64);
    private static final String D2 = "sha256:" + "b".repeat(64);
    private static final String D3 = "sha256:" + "c".repeat(64);

    private static String valid() {
        return """
            {"set":"small","sourceDateEpoch":1735689600,"images":[{"name":"clock","tag":"1","ref":"clock:1",
             "layout":"layouts/clock_1","manifestDigest":"%s","manifestSize":660,"configDigest":"%s",
             "totalSize":1000,"layers":[{"digest":"%s","size":340,"diffId":"%s","mediaType":"m",
             "createdBy":"ADD x","packages":["busybox-static=1:1.35.0-4"]}]}]}
            """.formatted(D1, D2, D3, D1);
    }

    @Test
    void parsesScriptOutput(@TempDir Path dir) {
        Corpus c = Corpus.parse(valid().getBytes(StandardCharsets.UTF_8), dir);
        assertEquals("small", c.set());
        Corpus.Image img = c.image("clock:1");
        assertEquals(dir.resolve("layouts/clock_1"), img.layoutDir());
        assertEquals("oci:" + dir.resolve("layouts/clock_1") + ":1", img.ociReference());
        assertEquals(List.of("busybox-static=1:1.35.0-4"), img.layers().get(0).packages());
        assertEquals(340, img.layers().get(0).size());
        assertThrows(IllegalArgumentException.class, () -> c.image("nope:1"));
        // blobs are not there: the cache check must notice
        assertThrows(IllegalStateException.class, c::checkBlobs);
    }

    @Test
    void rejectsGarbageWithClearMessage(@TempDir Path dir) {
        byte[] ok = valid().getBytes(StandardCharsets.UTF_8);
        List<byte[]> bad = List.of(
                new byte[0],
                Arrays.copyOf(ok, ok.length / 2), // truncated
                "{}".getBytes(StandardCharsets.UTF_8),
                "[1,2,3]".getBytes(StandardCharsets.UTF_8),
                valid().replace("layouts/clock_1", "../../etc").getBytes(StandardCharsets.UTF_8),
                valid().replace(D3, "sha256:xyz").getBytes(StandardCharsets.UTF_8),
                valid().replace("\"size\":340", "\"size\":-1").getBytes(StandardCharsets.UTF_8),
                valid().replace("\"name\":\"clock\"", "\"name\":\"Bad Name\"").getBytes(StandardCharsets.UTF_8));
        for (byte[] b : bad) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Corpus.parse(b, dir));
            assertTrue(e.getMessage().contains("corpus.json"), e.getMessage());
        }
        Random rnd = new Random(42);
        for (int i = 0; i < 200; i++) {
            byte[] b = new byte[rnd.nextInt(4096)];
            rnd.nextBytes(b);
            assertThrows(IllegalStateException.class, () -> Corpus.parse(b, dir));
        }
        byte[] huge = new byte[(8 << 20) + 1];
        Arrays.fill(huge, (byte) ' ');
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Corpus.parse(huge, dir));
        assertTrue(e.getMessage().contains("larger"), e.getMessage());
    }

    @Test
    void loadReportsMissingFile(@TempDir Path dir) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Corpus.load(dir));
        assertTrue(e.getMessage().contains("no corpus.json"), e.getMessage());
    }

    @Test
    void pushesOnlyToLoopback() {
        assertEquals("127.0.0.1:5000", Corpus.loopbackHostPort("http://127.0.0.1:5000"));
        assertEquals("localhost:41234", Corpus.loopbackHostPort("http://localhost:41234/"));
        assertEquals("[::1]:8080", Corpus.loopbackHostPort("http://[::1]:8080"));
        for (String bad : List.of("http://10.0.0.1:5000", "https://127.0.0.1:5000", "http://registry-1.docker.io",
                "http://127.0.0.1:99999", "http://127.0.0.1.evil.com:80", "127.0.0.1:5000")) {
            assertThrows(IllegalArgumentException.class, () -> Corpus.loopbackHostPort(bad), bad);
        }
    }

    @Test
    void scriptHashCoversEveryScriptFile(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("build-corpus.sh"), "echo a\n");
        Files.writeString(dir.resolve("full-images.sh"), "x=1\n");
        String h1 = Corpus.scriptHash(dir);
        assertEquals(h1, Corpus.scriptHash(dir));
        Files.writeString(dir.resolve("README.md"), "not a build input\n");
        assertEquals(h1, Corpus.scriptHash(dir));
        Files.writeString(dir.resolve("full-images.sh"), "x=2\n");
        assertNotEquals(h1, Corpus.scriptHash(dir));
        Files.delete(dir.resolve("full-images.sh"));
        assertThrows(IllegalStateException.class, () -> Corpus.scriptHash(dir));
    }

    @Test
    void missingToolFailsClearly() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Corpus.requireTools(List.of("definitely-not-a-layerswarm-tool")));
        assertTrue(e.getMessage().contains("definitely-not-a-layerswarm-tool"), e.getMessage());
    }
}
