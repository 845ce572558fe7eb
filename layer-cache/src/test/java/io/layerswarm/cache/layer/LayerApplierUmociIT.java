package io.layerswarm.cache.layer;

import static io.layerswarm.cache.tools.Tools.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.cache.tools.Tools;
import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cross-checks {@link LayerApplier} against the real umoci: an image is built with umoci from a
 * directory tree over two layers (the second deletes and replaces things, so it carries whiteouts),
 * then our unpack of its layers must equal {@code umoci unpack}'s rootfs.
 */
class LayerApplierUmociIT {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void unpackMatchesUmoci() throws Exception {
        Tools.require("umoci");
        run(tmp, "umoci", "init", "--layout", "img");
        run(tmp, "umoci", "new", "--image", "img:t");

        run(tmp, "umoci", "unpack", "--image", "img:t", "b1");
        Path fs = tmp.resolve("b1/rootfs");
        Files.createDirectories(fs.resolve("usr/bin"));
        Files.createDirectories(fs.resolve("etc"));
        Files.createDirectories(fs.resolve("var/lib/db"));
        Files.createDirectories(fs.resolve("opt/empty"));
        byte[] tool = new byte[150_000];
        new Random(3).nextBytes(tool);
        Files.write(fs.resolve("usr/bin/tool"), tool);
        Files.setAttribute(fs.resolve("usr/bin/tool"), "unix:mode", 04755);
        Files.createLink(fs.resolve("usr/bin/tool-alias"), fs.resolve("usr/bin/tool"));
        Files.writeString(fs.resolve("etc/hosts"), "127.0.0.1 localhost\n");
        Files.writeString(fs.resolve("etc/shadow"), "root:*:1::::::\n");
        Files.setAttribute(fs.resolve("etc/shadow"), "unix:mode", 0640);
        Files.setAttribute(fs.resolve("etc/shadow"), "unix:gid", 42);
        Files.writeString(fs.resolve("var/lib/db/data"), "old data");
        Files.writeString(fs.resolve("var/lib/db/stale"), "stale");
        Files.write(fs.resolve("etc/empty"), new byte[0]);
        Files.setAttribute(fs.resolve("var/lib"), "unix:mode", 0700);
        Files.setAttribute(fs.resolve("opt/empty"), "unix:mode", 01777);
        Files.createSymbolicLink(fs.resolve("bin"), Path.of("usr/bin"));
        Files.createSymbolicLink(fs.resolve("etc/localtime"), Path.of("/usr/share/zoneinfo/UTC"));
        Files.createSymbolicLink(fs.resolve("dangling"), Path.of("nowhere/at/all"));
        Path home = Files.createDirectories(fs.resolve("home/user"));
        Files.writeString(home.resolve(".profile"), "export A=1\n");
        for (Path p : new Path[] {home, home.resolve(".profile")}) {
            Files.setAttribute(p, "unix:uid", 1000, NOFOLLOW);
            Files.setAttribute(p, "unix:gid", 1000, NOFOLLOW);
        }
        Files.setLastModifiedTime(fs.resolve("etc/hosts"), FileTime.fromMillis(1_500_000_000_000L));
        run(tmp, "umoci", "repack", "--image", "img:t", "b1");

        run(tmp, "umoci", "unpack", "--image", "img:t", "b2");
        Path fs2 = tmp.resolve("b2/rootfs");
        Files.delete(fs2.resolve("etc/hosts"));
        Files.delete(fs2.resolve("dangling"));
        LayerApplier.deleteTree(fs2.resolve("var/lib/db"));
        Files.createDirectories(fs2.resolve("var/lib/db"));
        Files.writeString(fs2.resolve("var/lib/db/data"), "new data");
        Files.writeString(fs2.resolve("etc/shadow"), "root:!:2::::::\n");
        Files.delete(fs2.resolve("bin"));
        Files.createDirectory(fs2.resolve("bin"));
        Files.writeString(fs2.resolve("bin/sh"), "#!/not/really\n");
        run(tmp, "umoci", "repack", "--image", "img:t", "b2");

        run(tmp, "umoci", "unpack", "--image", "img:t", "ref");
        Path reference = tmp.resolve("ref/rootfs");

        Path layout = tmp.resolve("img");
        JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
        Digest manifestDigest = Digest.parse(index.get("manifests").get(0).get("digest").asText());
        JsonNode manifest = JSON.readTree(blob(layout, manifestDigest).toFile());
        JsonNode layers = manifest.get("layers");
        assertEquals(2, layers.size());

        Path ours = Files.createDirectory(tmp.resolve("ours"));
        LayerApplier applier = new LayerApplier();
        long whiteouts = 0;
        for (JsonNode layer : layers) {
            Path blob = blob(layout, Digest.parse(layer.get("digest").asText()));
            try (InputStream in = Files.newInputStream(blob)) {
                whiteouts += applier.apply(in, layer.get("mediaType").asText(), ours).whiteouts();
            }
        }
        assertTrue(whiteouts >= 2, "the second layer should carry whiteouts, saw " + whiteouts);

        Map<String, String> expected = describe(reference);
        Map<String, String> actual = describe(ours);
        assertFalse(expected.containsKey("etc/hosts"));
        assertTrue(expected.containsKey("usr/bin/tool-alias"));
        assertEquals(expected, actual);
    }

    private static Path blob(Path layout, Digest d) {
        return layout.resolve("blobs").resolve(d.algorithm().label()).resolve(d.hex());
    }

    /** Path -> type, mode, owner, content hash / link target, file mtime, link count. */
    static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.equals(root)) {
                    continue;
                }
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,nlink,lastModifiedTime", NOFOLLOW);
                int mode = (int) a.get("mode");
                String d;
                if (Files.isSymbolicLink(p)) {
                    d = "symlink -> " + Files.readSymbolicLink(p) + " mtime=" + a.get("lastModifiedTime");
                } else if (Files.isDirectory(p, NOFOLLOW)) {
                    d = "dir";
                } else {
                    d = "file " + Digest.sha256(Files.readAllBytes(p)) + " nlink=" + a.get("nlink")
                            + " mtime=" + a.get("lastModifiedTime");
                }
                m.put(root.relativize(p).toString(), d + " mode=" + Integer.toOctalString(mode & 07777)
                        + " owner=" + a.get("uid") + ":" + a.get("gid"));
            }
        }
        return m;
    }
}
