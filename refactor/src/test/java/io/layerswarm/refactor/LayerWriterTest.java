package io.layerswarm.refactor;

import io.layerswarm.oci.MediaTypes;
import io.layerswarm.refactor.build.BuiltLayer;
import io.layerswarm.refactor.build.ContentStash;
import io.layerswarm.refactor.build.ImageAssembler;
import io.layerswarm.refactor.build.LayerWriter;
import io.layerswarm.refactor.index.FileEntry;
import io.layerswarm.refactor.index.FileType;
import io.layerswarm.refactor.index.LayerScanner;
import io.layerswarm.refactor.index.ScannedLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayerWriterTest {
    static final byte[] LS = TestLayers.real("/usr/bin/ls");

    @Test
    void roundTripsEveryEntryKindDeterministically(@TempDir Path dir) throws IOException {
        ContentStash stash = new ContentStash(dir.resolve("c"));
        String sha = stash.accept(new ByteArrayInputStream(LS), LS.length);
        String longPath = "usr/share/" + "very-long-directory-name/".repeat(8) + "ls";
        List<FileEntry> entries = List.of(
                new FileEntry("usr/bin/ls", FileType.REGULAR, 04755, 0, 0, LS.length, sha, null, 0, 0, 1_700_000_000L,
                        Map.of("security.capability", "x")),
                new FileEntry(longPath, FileType.REGULAR, 0644, 3_000_000, 3_000_001, LS.length, sha, null, 0, 0, 1L, null),
                new FileEntry("usr/bin/dir", FileType.HARDLINK, 04755, 0, 0, LS.length, sha, "usr/bin/ls", 0, 0, 1L, null),
                new FileEntry("usr", FileType.DIRECTORY, 0755, 0, 0, 0, null, null, 0, 0, 1L, null),
                new FileEntry("usr/bin/vdir", FileType.SYMLINK, 0777, 0, 0, 0, null, "ls", 0, 0, 1L, null),
                new FileEntry("dev/null", FileType.CHAR_DEVICE, 0666, 0, 0, 0, null, null, 1, 3, 1L, null),
                new FileEntry("run/fifo", FileType.FIFO, 0600, 0, 0, 0, null, null, 0, 0, 1L, null),
                new FileEntry("etc/gone", FileType.WHITEOUT, 0, 0, 0, 0, null, null, 0, 0, 0L, null),
                new FileEntry("var/cache", FileType.OPAQUE, 0, 0, 0, 0, null, null, 0, 0, 0L, null));
        BuiltLayer a = LayerWriter.write(entries, stash, dir.resolve("a"));
        List<FileEntry> reversed = new java.util.ArrayList<>(entries);
        java.util.Collections.reverse(reversed);
        BuiltLayer b = LayerWriter.write(reversed, stash, dir.resolve("b"));
        assertEquals(a.digest(), b.digest());
        assertArrayEquals(Files.readAllBytes(a.file()), Files.readAllBytes(b.file()));
        ScannedLayer s;
        try (InputStream in = Files.newInputStream(a.file())) {
            s = LayerScanner.scan(in, MediaTypes.OCI_LAYER_GZIP, a.digest(), null);
        }
        assertEquals(a.diffId(), TestLayers.diffId(a.file()));
        assertEquals(entries.size(), s.entries().size());
        // hard links come last, after their targets
        assertEquals(FileType.HARDLINK, s.entries().get(s.entries().size() - 1).type());
        for (FileEntry e : entries) {
            FileEntry back = s.entries().stream().filter(x -> x.path().equals(e.path()) && x.type() == e.type())
                    .findFirst().orElseThrow(() -> new AssertionError("lost " + e.path()));
            if (e.type() == FileType.HARDLINK) {
                assertEquals(e.linkTarget(), back.linkTarget());
            } else if (e.type() != FileType.WHITEOUT && e.type() != FileType.OPAQUE) {
                assertTrue(e.sameFileAs(back), e + " != " + back); // xattrs included
                assertEquals(e.mtime(), back.mtime());
            }
        }
    }

    static Map<String, String> paxXattrs(Path gzipLayer, String path) throws IOException {
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
                new java.util.zip.GZIPInputStream(Files.newInputStream(gzipLayer)))) {
            for (var e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                if (e.getName().equals(path)) {
                    return e.getExtraPaxHeaders();
                }
            }
        }
        throw new AssertionError(path + " not in layer");
    }

    @Test
    void writesXattrsAsPaxRecords(@TempDir Path dir) throws IOException {
        ContentStash stash = new ContentStash(dir.resolve("c"));
        String sha = stash.accept(new ByteArrayInputStream(LS), LS.length);
        BuiltLayer l = LayerWriter.write(List.of(new FileEntry("usr/bin/ping", FileType.REGULAR, 0755, 0, 0, LS.length,
                sha, null, 0, 0, 1L, Map.of("security.capability", "cap"))), stash, dir.resolve("o"));
        assertEquals("cap", paxXattrs(l.file(), "usr/bin/ping").get("SCHILY.xattr.security.capability"));
    }

    @Test
    void refusesContentOfTheWrongSize(@TempDir Path dir) throws IOException {
        ContentStash stash = new ContentStash(dir.resolve("c"));
        String sha = stash.accept(new ByteArrayInputStream(LS), LS.length);
        FileEntry lying = new FileEntry("ls", FileType.REGULAR, 0755, 0, 0, LS.length + 1, sha, null, 0, 0, 0, null);
        assertThrows(IOException.class, () -> LayerWriter.write(List.of(lying), stash, dir.resolve("o")));
        assertThrows(IOException.class, () -> stash.accept(new ByteArrayInputStream(LS), LS.length + 10));
        assertThrows(IOException.class, () -> stash.open("0".repeat(64)));
        assertThrows(IOException.class, () -> stash.open("../../etc/passwd"));
        try (var files = Files.list(dir.resolve("c"))) {
            assertEquals(1, files.count(), "no temp file left behind");
        }
    }

    @Test
    void assemblerRejectsGarbageConfigs() {
        byte[] random = new byte[4096];
        new Random(3).nextBytes(random);
        for (byte[] bad : List.of(random, "[1,2]".getBytes(), "{\"a\":".getBytes(), new byte[0])) {
            assertThrows(IOException.class, () -> ImageAssembler.assemble(bad, List.of(), Map.of()));
        }
    }
}
