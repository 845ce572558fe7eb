package io.layerswarm.cache.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.tools.TarBuilder;
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
                .withPax("usr/bin/ping", java.util.Map.of("SCHILY.xattr.security.capability", "cap",
                        "SCHILY.xattr.user.note", "hi", "LAYERSWARM.other", "ignored"), new byte[0])
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
                        + e.gid() + " " + e.size() + " " + e.linkTarget() + extra
                        + (e.xattrs().isEmpty() ? "" : " " + e.xattrs()));
            }
            assertNull(w.next());
            assertTrue(w.uncompressedBytes() >= 8 * 512);
        }
        assertEquals(List.of(
                "DIRECTORY '' 755 0:0 0 null",
                "DIRECTORY 'usr/lib' 700 0:0 0 null",
                "FILE 'usr/lib/a.so' 644 0:0 3 null AAA",
                "FILE 'skipped' 644 0:0 20 null",
                "SYMLINK 'usr/lib/b.so' 777 0:0 0 a.so",
                "HARDLINK 'c' 644 0:0 0 usr/lib/a.so",
                "FILE 'owned' 640 42:43 1 null",
                "FILE 'usr/bin/ping' 644 0:0 0 null {security.capability=cap, user.note=hi}"), seen);
    }

    @Test
    void emptyLayerHasNoEntriesButMissingEndMarkerIsCorrupt() throws Exception {
        try (TarWalker w = walker(new byte[1024])) {
            assertNull(w.next());
        }
        // Junk after a single end block is ignored, as the tar parser ignores it.
        byte[] tar = new TarBuilder().file("a", "a").tar();
        byte[] trailing = java.util.Arrays.copyOf(tar, tar.length + 512);
        java.util.Arrays.fill(trailing, 1536, trailing.length, (byte) 'z'); // only one zero block at 1024
        try (TarWalker w = walker(trailing)) {
            assertEquals("a", w.next().path());
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

    /** Rewrites the checksum of the header block at {@code off}. */
    static void fixChecksum(byte[] tar, int off) {
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : tar[off + i] & 0xff;
        }
        byte[] chk = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(chk, 0, tar, off + 148, 8);
    }

    static InvalidLayerException rejected(byte[] tar) {
        return assertThrows(InvalidLayerException.class, () -> {
            try (TarWalker w = walker(tar)) {
                while (w.next() != null) {
                    w.content().readAllBytes();
                }
            }
        });
    }

    @Test
    void rejectsGnuSparseHeaderBeforeParsing() throws Exception {
        byte[] tar = new TarBuilder().file("f", "x").tar();
        tar[156] = 'S';
        fixChecksum(tar, 0);
        assertEquals(InvalidLayerException.Kind.UNSUPPORTED, rejected(tar).kind());
    }

    @Test
    void hugeDeclaredExtendedHeadersAreRejectedBeforeBuffering() throws Exception {
        // A PAX header and a GNU long name that claim 1 GiB and 64 GiB (base-256): the guard
        // refuses them from the declared size, so memory stays bounded whatever follows.
        for (byte type : new byte[] {'x', 'L', 'g'}) {
            byte[] tar = new TarBuilder().file("f", "x").tar();
            tar[156] = type;
            byte[] size = "10000000000\0".getBytes(StandardCharsets.US_ASCII); // 2^30, octal
            System.arraycopy(size, 0, tar, 124, 12);
            fixChecksum(tar, 0);
            InvalidLayerException e = rejected(tar);
            assertEquals(InvalidLayerException.Kind.LIMIT_EXCEEDED, e.kind(), e.getMessage());
            assertTrue(e.getMessage().contains("maxHeaderBytes"), e.getMessage());
        }
        byte[] tar = new TarBuilder().file("f", "x").tar();
        tar[156] = 'x';
        java.util.Arrays.fill(tar, 124, 136, (byte) 0);
        tar[124] = (byte) 0x80;
        tar[131] = 0x10; // 2^36 in base-256
        fixChecksum(tar, 0);
        assertEquals(InvalidLayerException.Kind.LIMIT_EXCEEDED, rejected(tar).kind());
    }

    @Test
    void paxSizeRecordKeepsTheGuardInStepWithTheParser() throws Exception {
        // The data length of "a" is only in its PAX size record (the ustar field says 0), as writers
        // do for files over 8 GiB. The guard must follow it, or it would miss the oversized header
        // of "b" that comes next.
        byte[] big = new byte[3000];
        byte[] tar = new TarBuilder()
                .raw("PaxHeaders/a", (byte) 'x', "13 size=3000\n".getBytes(StandardCharsets.UTF_8))
                .file("a", big, 0644)
                .withPax("b", java.util.Map.of("LAYERSWARM.pad", "p".repeat(2 << 20)), new byte[1])
                .tar();
        System.arraycopy("00000000000\0".getBytes(StandardCharsets.US_ASCII), 0, tar, 1024 + 124, 12);
        fixChecksum(tar, 1024);
        try (TarWalker w = walker(tar)) {
            TarEntry a = w.next();
            assertEquals("a", a.path());
            assertEquals(3000, a.size());
            assertEquals(3000, w.content().readAllBytes().length);
            InvalidLayerException e = assertThrows(InvalidLayerException.class, w::next);
            assertEquals(InvalidLayerException.Kind.LIMIT_EXCEEDED, e.kind(), e.getMessage());
        }
    }
}
