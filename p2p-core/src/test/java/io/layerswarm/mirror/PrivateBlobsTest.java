package io.layerswarm.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrivateBlobsTest {
    @TempDir
    Path dir;

    @Test
    void marksSurviveARestartAndUnmarkingRewritesTheFile() throws Exception {
        Path file = dir.resolve("private-blobs");
        Digest a = Digest.sha256("a".getBytes(StandardCharsets.UTF_8));
        Digest b = Digest.sha256("b".getBytes(StandardCharsets.UTF_8));
        PrivateBlobs first = PrivateBlobs.open(file);
        assertFalse(first.contains(a));
        first.add(a);
        first.add(b);
        first.add(a); // once
        assertEquals(2, Files.readAllLines(file).size());
        first.remove(b);

        PrivateBlobs again = PrivateBlobs.open(file);
        assertTrue(again.contains(a));
        assertFalse(again.contains(b));
        assertEquals(java.util.List.of(a.toString()), Files.readAllLines(file));
    }

    @Test
    void garbageLinesAreSkipped() throws Exception {
        Path file = dir.resolve("private-blobs");
        Digest a = Digest.sha256("a".getBytes(StandardCharsets.UTF_8));
        Files.write(file, ("sha256:zz\n\u0000\u00ff garbage\n\n" + a + "\nsha256:" + "0".repeat(10_000) + "\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        PrivateBlobs p = PrivateBlobs.open(file);
        assertTrue(p.contains(a));
    }
}
