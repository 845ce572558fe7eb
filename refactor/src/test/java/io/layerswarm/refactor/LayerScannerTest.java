package io.layerswarm.refactor;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.refactor.index.FileEntry;
import io.layerswarm.refactor.index.FileType;
import io.layerswarm.refactor.index.LayerScanner;
import io.layerswarm.refactor.index.ScannedLayer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayerScannerTest {
    private static final byte[] LS = TestLayers.real("/usr/bin/ls");
    private static final byte[] CAT = TestLayers.real("/usr/bin/cat");

    @Test
    void listsEntriesWithContentHashesAndDigests() throws IOException {
        byte[] blob = new TestLayers.Layer().dir("usr/bin").file("usr/bin/ls", LS, 0755, 0)
                .file("usr/bin/cat", CAT, 0700, 1000).symlink("usr/bin/dir", "ls").hardlink("usr/bin/ls2", "usr/bin/ls")
                .whiteout("etc/gone").opaque("var").bytes();
        ScannedLayer s = LayerScanner.scan(new ByteArrayInputStream(blob), MediaTypes.OCI_LAYER_GZIP,
                Digest.sha256(blob), null);
        assertEquals(Digest.sha256(blob), s.digest());
        assertEquals(blob.length, s.blobSize());
        assertEquals(7, s.entries().size());
        FileEntry ls = s.entries().get(1);
        assertEquals("usr/bin/ls", ls.path());
        assertEquals(FileType.REGULAR, ls.type());
        assertEquals(HexFormat.of().formatHex(Digest.sha256(LS).hashBytes()), ls.sha256());
        assertEquals(LS.length, ls.size());
        FileEntry cat = s.entries().get(2);
        assertEquals(0700, cat.mode());
        assertEquals(1000, cat.uid());
        assertEquals("ls", s.entries().get(3).linkTarget());
        assertEquals(FileType.HARDLINK, s.entries().get(4).type());
        assertEquals("usr/bin/ls", s.entries().get(4).linkTarget());
        assertEquals(new FileEntry("etc/gone", FileType.WHITEOUT, 0, 0, 0, 0, null, null, 0, 0,
                s.entries().get(5).mtime(), null), s.entries().get(5));
        assertEquals(FileType.OPAQUE, s.entries().get(6).type());
        assertEquals("var", s.entries().get(6).path());
        assertEquals(LS.length + CAT.length, s.contentBytes());
    }

    @Test
    void rejectsWrongDigest() {
        byte[] blob = new TestLayers.Layer().file("ls", LS).bytes();
        IOException e = assertThrows(IOException.class, () -> LayerScanner.scan(new ByteArrayInputStream(blob),
                MediaTypes.OCI_LAYER_GZIP, Digest.sha256(CAT), null));
        assertTrue(e.getMessage().contains("digest mismatch"), e.getMessage());
    }

    @Test
    void rejectsGarbageTruncationAndEscapingPaths() {
        byte[] random = new byte[1 << 20];
        new Random(7).nextBytes(random);
        assertMalformed(random, MediaTypes.OCI_LAYER_GZIP);
        assertMalformed(random, MediaTypes.OCI_LAYER_TAR);
        assertMalformed(random, MediaTypes.OCI_LAYER_ZSTD);
        byte[] blob = new TestLayers.Layer().file("usr/bin/ls", LS).file("usr/bin/cat", CAT).bytes();
        assertMalformed(Arrays.copyOf(blob, blob.length / 2), MediaTypes.OCI_LAYER_GZIP);
        byte[] escaping = new TestLayers.Layer().file("../../etc/passwd", CAT).bytes();
        IOException e = assertMalformed(escaping, MediaTypes.OCI_LAYER_GZIP);
        assertTrue(e.getMessage().contains("'..'"), e.getMessage());
        assertThrows(IOException.class, () -> LayerScanner.scan(new ByteArrayInputStream(blob), "text/plain", null, null));
    }

    @Test
    void rejectsLayersBeyondTheEntryLimit() {
        TestLayers.Layer many = new TestLayers.Layer();
        for (int i = 0; i <= 1000; i++) {
            many.file("f" + i, new byte[0], 0644, 0);
        }
        byte[] blob = many.bytes();
        // The scanner's limits come from the shared TarWalker; a smaller limit proves they are enforced.
        assertTrue(LayerScanner.LIMITS.maxEntries() >= 1_000_000);
        IOException e = assertThrows(IOException.class, () -> {
            try (var w = io.layerswarm.cache.layer.TarWalker.open(new ByteArrayInputStream(blob), MediaTypes.OCI_LAYER_GZIP,
                    LayerScanner.LIMITS.withMaxEntries(1000))) {
                while (w.next() != null) {
                    continue;
                }
            }
        });
        assertTrue(e.getMessage().contains("entries"), e.getMessage());
    }

    private static IOException assertMalformed(byte[] blob, String mediaType) {
        IOException e = assertThrows(IOException.class,
                () -> LayerScanner.scan(new ByteArrayInputStream(blob), mediaType, null, null));
        assertTrue(e.getMessage().startsWith("layer"), e.getMessage());
        return e;
    }
}
