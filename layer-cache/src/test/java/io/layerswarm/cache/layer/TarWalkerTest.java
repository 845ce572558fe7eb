package io.layerswarm.cache.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TarWalkerTest {

    static TarWalker walker(byte[] layer) throws IOException {
        return TarWalker.open(new ByteArrayInputStream(layer), null, TarLimits.defaults());
    }

    @Test
    void reportsNormalisedEntriesAndContent() throws Exception {
        byte[] layer = new TarBuilder()
                .dir("./", 0755)
                .dir(".//usr/./lib/", 0700)
                .file("./usr/lib/a.so", "AAA")
                .file("skipped", "content nobody reads")
                .symlink("./usr/lib/b.so", "a.so")
                .hardlink("c", "./usr//lib/a.so")
                .owned("owned", "o", 42, 43, 0640)
                .zstd();
        List<String> seen = new ArrayList<>();
        try (TarWalker w = walker(layer)) {
            assertEquals(TarWalker.Compression.ZSTD, w.compression());
            for (TarEntry e; (e = w.next()) != null; ) {
                String extra = "";
                if (e.path().equals("usr/lib/a.so")) {
                    extra = " " + new String(w.content().readAllBytes(), StandardCharsets.UTF_8);
                }
                seen.add(e.type() + " '" + e.path() + "' " + Integer.toOctalString(e.mode()) + " " + e.uid() + ":"
                        + e.gid() + " " + e.size() + " " + e.linkTarget() + extra);
            }
            assertNull(w.next());
            assertTrue(w.uncompressedBytes() >= 7 * 512);
        }
        assertEquals(List.of(
                "DIRECTORY '' 755 0:0 0 null",
                "DIRECTORY 'usr/lib' 700 0:0 0 null",
                "FILE 'usr/lib/a.so' 644 0:0 3 null AAA",
                "FILE 'skipped' 644 0:0 20 null",
                "SYMLINK 'usr/lib/b.so' 777 0:0 0 a.so",
                "HARDLINK 'c' 644 0:0 0 usr/lib/a.so",
                "FILE 'owned' 640 42:43 1 null"), seen);
    }

    @Test
    void emptyLayerHasNoEntriesButMissingEndMarkerIsCorrupt() throws Exception {
        try (TarWalker w = walker(new byte[1024])) {
            assertNull(w.next());
        }
        for (byte[] bad : new byte[][] {new byte[0], new byte[300], TarBuilder.gzip(new byte[0])}) {
            InvalidLayerException e = assertThrows(InvalidLayerException.class, () -> {
                try (TarWalker w = walker(bad)) {
                    w.next();
                }
            });
            assertEquals(InvalidLayerException.Kind.CORRUPT, e.kind());
            assertTrue(e.getMessage().contains("end-of-archive"), e.getMessage());
        }
    }

    @Test
    void rejectsGnuSparseHeaderBeforeParsing() throws Exception {
        byte[] tar = new TarBuilder().file("f", "x").tar();
        tar[156] = 'S';
        // fix the header checksum so only the type is wrong
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : tar[i] & 0xff;
        }
        byte[] chk = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(chk, 0, tar, 148, 8);
        InvalidLayerException e = assertThrows(InvalidLayerException.class, () -> {
            try (TarWalker w = walker(tar)) {
                w.next();
            }
        });
        assertEquals(InvalidLayerException.Kind.UNSUPPORTED, e.kind());
    }
}
