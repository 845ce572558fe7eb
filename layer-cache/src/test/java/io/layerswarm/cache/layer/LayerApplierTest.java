package io.layerswarm.cache.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.layer.InvalidLayerException.Kind;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.cache.tools.TarBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerApplierTest {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    @TempDir
    Path tmp;
    Path root;
    Path outside;

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "untouched");
    }

    ApplyStats apply(byte[] layer) throws IOException {
        return apply(layer, null, ApplyOptions.defaults());
    }

    ApplyStats apply(byte[] layer, String mediaType, ApplyOptions options) throws IOException {
        return new LayerApplier(options).apply(new ByteArrayInputStream(layer), mediaType, root);
    }

    /** Every path under tmp except inside the root, with file contents. */
    Map<String, String> outsideSnapshot() throws IOException {
        try (Stream<Path> s = Files.walk(tmp)) {
            Map<String, String> m = new TreeMap<>();
            for (Path p : s.filter(p -> !p.startsWith(root)).collect(Collectors.toList())) {
                m.put(tmp.relativize(p).toString(), Files.isRegularFile(p, NOFOLLOW) ? Files.readString(p) : "");
            }
            return m;
        }
    }

    void assertRejected(Kind kind, String messagePart, Consumer<TarBuilder> layer) throws IOException {
        Map<String, String> before = outsideSnapshot();
        TarBuilder b = new TarBuilder();
        layer.accept(b);
        InvalidLayerException e = assertThrows(InvalidLayerException.class, () -> apply(b.tar()));
        assertEquals(kind, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains(messagePart), "message '" + e.getMessage() + "' should mention " + messagePart);
        assertEquals(before, outsideSnapshot(), "nothing may change outside the root");
        assertEquals("untouched", Files.readString(outside.resolve("secret")));
    }

    @Test
    void appliesFilesDirsLinksModesTimesAndOwnership() throws Exception {
        byte[] big = new byte[300_000];
        new Random(1).nextBytes(big);
        byte[] layer = new TarBuilder()
                .dir("./", 0755)
                .dir("./etc", 0750)
                .file("./etc/hosts", "127.0.0.1 localhost\n")
                .file("usr/bin/tool", big, 04755)
                .symlink("bin", "usr/bin")
                .symlink("etc/localtime", "/usr/share/zoneinfo/UTC")
                .hardlink("usr/bin/tool2", "usr/bin/tool")
                .owned("home/u/file", "mine", 1234, 5678, 0600)
                .gzip();
        ApplyStats stats = apply(layer);
        assertEquals(new ApplyStats(8, 3, 2, 2, 1, 0, 20 + big.length + 4, 0), stats);
        assertEquals("127.0.0.1 localhost\n", Files.readString(root.resolve("etc/hosts")));
        assertTrue(Arrays.equals(big, Files.readAllBytes(root.resolve("usr/bin/tool"))));
        assertEquals(Path.of("usr/bin"), Files.readSymbolicLink(root.resolve("bin")));
        assertEquals(Path.of("/usr/share/zoneinfo/UTC"), Files.readSymbolicLink(root.resolve("etc/localtime")));
        assertEquals(Files.getAttribute(root.resolve("usr/bin/tool"), "unix:ino"),
                Files.getAttribute(root.resolve("usr/bin/tool2"), "unix:ino"));
        assertEquals(0750, mode(root.resolve("etc")));
        assertEquals(TarBuilder.MTIME, Files.getLastModifiedTime(root.resolve("etc"), NOFOLLOW));
        assertEquals(TarBuilder.MTIME, Files.getLastModifiedTime(root.resolve("etc/hosts"), NOFOLLOW));
        assertEquals(TarBuilder.MTIME, Files.getLastModifiedTime(root.resolve("bin"), NOFOLLOW));
        if (ApplyOptions.runningAsRoot()) {
            assertEquals(04755, mode(root.resolve("usr/bin/tool")));
            assertEquals(1234, Files.getAttribute(root.resolve("home/u/file"), "unix:uid", NOFOLLOW));
            assertEquals(5678, Files.getAttribute(root.resolve("home/u/file"), "unix:gid", NOFOLLOW));
        } else {
            assertEquals(0755, mode(root.resolve("usr/bin/tool")), "setuid dropped when not root");
        }
        assertEquals(0600, mode(root.resolve("home/u/file")));
    }

    static int mode(Path p) throws IOException {
        return (int) Files.getAttribute(p, "unix:mode", NOFOLLOW) & 07777;
    }

    @Test
    void detectsCompressionAndChecksMediaType() throws Exception {
        TarBuilder b = new TarBuilder().file("a", "x");
        byte[] tar = b.tar();
        assertEquals(1, apply(tar, MediaTypes.OCI_LAYER_TAR, ApplyOptions.defaults()).files());
        assertEquals(1, apply(TarBuilder.zstd(tar), MediaTypes.OCI_LAYER_ZSTD, ApplyOptions.defaults()).files());
        assertEquals(1, apply(TarBuilder.gzip(tar), MediaTypes.DOCKER_LAYER_GZIP, ApplyOptions.defaults()).files());
        assertEquals(1, apply(TarBuilder.zstd(tar)).files());
        InvalidLayerException e = assertThrows(InvalidLayerException.class,
                () -> apply(TarBuilder.zstd(tar), MediaTypes.OCI_LAYER_GZIP, ApplyOptions.defaults()));
        assertTrue(e.getMessage().contains("says GZIP but the content is ZSTD"), e.getMessage());
        e = assertThrows(InvalidLayerException.class, () -> apply(tar, "text/plain", ApplyOptions.defaults()));
        assertEquals(Kind.UNSUPPORTED, e.kind());
    }

    @Test
    void whiteoutsAndOpaqueDirectoriesAcrossTwoLayers() throws Exception {
        apply(new TarBuilder()
                .dir("a", 0755).file("a/x", "lower x").file("a/y", "lower y")
                .dir("a/sub", 0755).file("a/sub/deep", "lower deep")
                .dir("b", 0755).file("b/z", "z")
                .file("keep", "k").file("gone", "g").symlink("link", "/nowhere")
                .tar());
        ApplyStats s = apply(new TarBuilder()
                .file("a/new1", "before marker")
                .dir("a/sub", 0700)
                .file("a/.wh..wh..opq", "")
                .file("a/new2", "after marker")
                .file(".wh.b", "")
                .file(".wh.gone", "")
                .file(".wh.link", "")
                .file(".wh.never-existed", "")
                .file("new/.wh.x", "")
                .tar());
        assertEquals(6, s.whiteouts());
        assertEquals(List.of("a", "a/new1", "a/new2", "a/sub", "keep", "new"), tree());
        assertEquals("after marker", Files.readString(root.resolve("a/new2")));
        assertEquals(0700, mode(root.resolve("a/sub")));
    }

    List<String> tree() throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> !p.equals(root)).map(p -> root.relativize(p).toString()).sorted()
                    .collect(Collectors.toList());
        }
    }

    @Test
    void laterLayerReplacesFileDirAndSymlinkWithoutFollowing() throws Exception {
        apply(new TarBuilder()
                .symlink("f", outside.resolve("secret").toString())
                .symlink("d", outside.toString())
                .dir("x", 0755).file("x/inner", "i")
                .file("y", "y")
                .tar());
        apply(new TarBuilder()
                .file("f", "replaced")
                .dir("d", 0755).file("d/secret", "inside")
                .file("x", "now a file")
                .dir("y", 0755)
                .tar());
        assertEquals("untouched", Files.readString(outside.resolve("secret")));
        assertEquals("replaced", Files.readString(root.resolve("f")));
        assertFalse(Files.isSymbolicLink(root.resolve("d")));
        assertEquals("inside", Files.readString(root.resolve("d/secret")));
        assertEquals("now a file", Files.readString(root.resolve("x")));
        assertTrue(Files.isDirectory(root.resolve("y"), NOFOLLOW));
    }

    @Test
    void rejectsPathTraversal() throws Exception {
        assertRejected(Kind.UNSAFE, "'..'", b -> b.file("../evil", "x"));
        assertRejected(Kind.UNSAFE, "'..'", b -> b.file("a/../../evil", "x"));
        assertRejected(Kind.UNSAFE, "absolute path", b -> b.file(tmp.resolve("evil").toString(), "x"));
        assertRejected(Kind.UNSAFE, "'..'", b -> b.dir("ok", 0755).hardlink("h", "../outside/secret"));
        assertRejected(Kind.UNSAFE, "absolute path", b -> b.hardlink("h", outside.resolve("secret").toString()));
        assertRejected(Kind.UNSAFE, "escapes the root", b -> b.symlink("s", "../outside"));
        assertRejected(Kind.UNSAFE, "escapes the root", b -> b.dir("a/b", 0755).symlink("a/b/s", "../../../outside/secret"));
        assertRejected(Kind.UNSAFE, "invalid whiteout", b -> b.file(".wh...", ""));
    }

    @Test
    void rejectsWritingThroughSymlinks() throws Exception {
        String out = outside.toString();
        assertRejected(Kind.UNSAFE, "through symlink a", b -> b.symlink("a", out).file("a/passwd", "pwned"));
        cleanRoot();
        assertRejected(Kind.UNSAFE, "through symlink a", b -> b.symlink("a", out).file("a/secret", "pwned"));
        cleanRoot();
        assertRejected(Kind.UNSAFE, "through symlink a", b -> b.symlink("a", out).dir("a/sub", 0755));
        cleanRoot();
        assertRejected(Kind.UNSAFE, "through symlink a", b -> b.symlink("a", out).hardlink("h", "a/secret"));
        cleanRoot();
        assertRejected(Kind.UNSAFE, "through symlink a", b -> b.symlink("a", out).file("a/.wh.secret", ""));
        cleanRoot();
        assertRejected(Kind.UNSAFE, "through symlink a", b -> b.symlink("a", out).file("a/.wh..wh..opq", ""));
        cleanRoot();
        assertRejected(Kind.UNSAFE, "through symlink a", b -> b.symlink("a", ".").file("a/x", "x"));
        cleanRoot();
        // A symlink planted by a lower layer is just as untrusted.
        apply(new TarBuilder().symlink("lib", out).tar());
        assertRejected(Kind.UNSAFE, "through symlink lib", b -> b.file("lib/libc.so", "evil"));
        assertTrue(Files.isSymbolicLink(root.resolve("lib")));
    }

    void cleanRoot() throws IOException {
        LayerApplier.deleteTree(root);
        Files.createDirectory(root);
    }

    @Test
    void hardLinkToMissingOrNonRegularTargetIsRejected() throws Exception {
        assertRejected(Kind.CORRUPT, "does not exist", b -> b.hardlink("h", "missing"));
        assertRejected(Kind.UNSAFE, "not a regular file", b -> b.symlink("s", "/etc/passwd").hardlink("h", "s"));
        assertRejected(Kind.UNSAFE, "not a regular file", b -> b.dir("d", 0755).hardlink("h", "d"));
    }

    @Test
    void specialFilesAreSkippedUnlessAllowed() throws Exception {
        byte[] layer = new TarBuilder()
                .special("dev/null", TarConstants.LF_CHR, 1, 3)
                .special("pipe", TarConstants.LF_FIFO, 0, 0)
                .file("ok", "ok")
                .tar();
        ApplyStats s = apply(layer);
        assertEquals(2, s.skipped());
        assertFalse(Files.exists(root.resolve("pipe"), NOFOLLOW));
        assertFalse(Files.exists(root.resolve("dev/null"), NOFOLLOW));
        assertTrue(Files.exists(root.resolve("ok")));
        if (ApplyOptions.runningAsRoot()) {
            ApplyStats allowed = apply(layer, null, ApplyOptions.defaults().withSpecialFiles(true));
            assertEquals(0, allowed.skipped());
            assertEquals("p", Files.getAttribute(root.resolve("pipe"), "unix:mode", NOFOLLOW) instanceof Integer m
                    && (m & 0170000) == 0010000 ? "p" : "?");
            assertEquals(0020000, (int) Files.getAttribute(root.resolve("dev/null"), "unix:mode", NOFOLLOW) & 0170000);
            assertEquals((1L << 8) | 3, ((Number) Files.getAttribute(root.resolve("dev/null"), "unix:rdev", NOFOLLOW)).longValue());
        }
    }

    @Test
    void limitsOnNamesHeadersEntriesSizeAndRatio() throws Exception {
        assertRejected(Kind.LIMIT_EXCEEDED, "maxPathBytes", b -> b.file("d/" + "n".repeat(5000), "x"));
        assertRejected(Kind.LIMIT_EXCEEDED, "maxPathBytes", b -> b.symlink("s", "t/".repeat(3000)));
        assertRejected(Kind.LIMIT_EXCEEDED, "maxHeaderBytes",
                b -> b.withPax("big", Map.of("LAYERSWARM.padding", "p".repeat(2 << 20)), new byte[1]));
        byte[] many = new TarBuilder().file("1", "").file("2", "").file("3", "").file("4", "").tar();
        InvalidLayerException e = assertThrows(InvalidLayerException.class,
                () -> apply(many, null, ApplyOptions.defaults().withLimits(TarLimits.defaults().withMaxEntries(3))));
        assertEquals(Kind.LIMIT_EXCEEDED, e.kind());
        assertTrue(e.getMessage().contains("maxEntries"), e.getMessage());

        byte[] zeros = new TarBuilder().file("zeros", new byte[8 << 20], 0644).tar();
        e = assertThrows(InvalidLayerException.class, () -> apply(zeros, null,
                ApplyOptions.defaults().withLimits(TarLimits.defaults().withMaxTotalBytes(1 << 20))));
        assertEquals(Kind.LIMIT_EXCEEDED, e.kind());
        assertTrue(e.getMessage().contains("maxTotalBytes"), e.getMessage());

        byte[] bomb = TarBuilder.gzip(zeros); // ~1000:1
        e = assertThrows(InvalidLayerException.class, () -> apply(bomb, null,
                ApplyOptions.defaults().withLimits(TarLimits.defaults().withCompressionRatio(100, 1 << 20))));
        assertEquals(Kind.LIMIT_EXCEEDED, e.kind());
        assertTrue(e.getMessage().contains("decompression bomb"), e.getMessage());
        assertTrue(Files.size(root.resolve("zeros")) <= 2 << 20, "stopped soon after the limit");
        // The same layer is fine under the default ratio grace (64 MiB).
        assertEquals(8 << 20, apply(bomb).bytes());
    }

    @Test
    void paxSizeAndLongNamesAreHonoured() throws Exception {
        String longName = "dir/" + "abcdefghi/".repeat(30) + "x".repeat(200);
        byte[] layer = new TarBuilder()
                .file(longName, "long")
                .withPax("short", Map.of("path", "renamed/by/pax"), "content".getBytes(StandardCharsets.UTF_8))
                .file("after", "after")
                .tar();
        ApplyStats s = apply(layer);
        assertEquals(3, s.files());
        assertEquals("long", Files.readString(root.resolve(longName)));
        assertEquals("content", Files.readString(root.resolve("renamed/by/pax")));
        assertEquals("after", Files.readString(root.resolve("after")));
    }

    @Test
    void garbageIsRejectedClearly() throws Exception {
        byte[] good = new TarBuilder().file("a", new byte[100_000], 0644).file("b", "b").tar();
        Random rnd = new Random(42);
        for (int i = 0; i < 20; i++) {
            byte[] junk = new byte[1 + rnd.nextInt(5000)];
            rnd.nextBytes(junk);
            if (i % 3 == 1) {
                junk[0] = 0x1f; // gzip magic, junk after
                junk[Math.min(1, junk.length - 1)] = (byte) 0x8b;
            }
            assertThrows(InvalidLayerException.class, () -> apply(junk), "junk #" + i);
        }
        byte[][] truncated = {
            Arrays.copyOf(good, 50_000), // inside a file's content
            Arrays.copyOf(good, 100), // inside the first header
            Arrays.copyOf(TarBuilder.gzip(good), TarBuilder.gzip(good).length / 2),
            Arrays.copyOf(TarBuilder.zstd(good), TarBuilder.zstd(good).length - 10),
        };
        for (byte[] t : truncated) {
            cleanRoot();
            InvalidLayerException e = assertThrows(InvalidLayerException.class, () -> apply(t));
            assertEquals(Kind.CORRUPT, e.kind(), e.getMessage());
            assertTrue(e.getMessage().contains("corrupt or truncated"), e.getMessage());
        }
    }
}
