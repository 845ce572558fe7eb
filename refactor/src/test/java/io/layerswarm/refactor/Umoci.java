package io.layerswarm.refactor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.MediaTypes;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Drives the real umoci (an independent OCI implementation) and snapshots the trees it unpacks. */
final class Umoci {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Umoci() {
    }

    /** Fails clearly when umoci is missing. */
    static void require() throws Exception {
        try {
            Process p = new ProcessBuilder("umoci", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            assertEquals(0, p.waitFor(), "umoci --version failed");
        } catch (IOException e) {
            throw new AssertionError("umoci is not installed (run scripts/install-system-packages.sh)", e);
        }
    }

    /** {@code umoci unpack --image layout:tag bundle}; returns the rootfs. */
    static Path unpack(Path layout, String tag, Path bundle) throws Exception {
        Path log = Files.createTempFile("umoci-", ".log");
        Process p = new ProcessBuilder("umoci", "unpack", "--image", layout + ":" + tag, bundle.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "umoci unpack timed out");
        String out = Files.readString(log);
        Files.delete(log);
        assertEquals(0, p.exitValue(), "umoci unpack " + layout + ":" + tag + " failed:\n" + out);
        return bundle.resolve("rootfs");
    }

    /**
     * Writes an OCI image layout holding one image tagged {@code tag}: the given config, layer files
     * and manifest bytes.
     */
    static void writeLayout(Path dir, String tag, byte[] manifest, byte[] config, Map<Digest, Path> blobs)
            throws IOException {
        Path b = Files.createDirectories(dir.resolve("blobs/sha256"));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Files.write(b.resolve(Digest.sha256(config).hex()), config);
        Files.write(b.resolve(Digest.sha256(manifest).hex()), manifest);
        for (Map.Entry<Digest, Path> e : blobs.entrySet()) {
            Files.copy(e.getValue(), b.resolve(e.getKey().hex()), StandardCopyOption.REPLACE_EXISTING);
        }
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        ObjectNode m = index.putArray("manifests").addObject();
        m.put("mediaType", MediaTypes.OCI_MANIFEST);
        m.put("digest", Digest.sha256(manifest).toString());
        m.put("size", manifest.length);
        m.putObject("annotations").put("org.opencontainers.image.ref.name", tag);
        Files.write(dir.resolve("index.json"), JSON.writeValueAsBytes(index));
    }

    /** An OCI manifest for a config and layers. */
    static byte[] manifest(byte[] config, List<Descriptor> layers) throws IOException {
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", MediaTypes.OCI_MANIFEST);
        ObjectNode c = m.putObject("config");
        c.put("mediaType", MediaTypes.OCI_CONFIG);
        c.put("digest", Digest.sha256(config).toString());
        c.put("size", config.length);
        var arr = m.putArray("layers");
        for (Descriptor d : layers) {
            ObjectNode l = arr.addObject();
            l.put("mediaType", d.mediaType());
            l.put("digest", d.digest().toString());
            l.put("size", d.size());
        }
        return JSON.writeValueAsBytes(m);
    }

    /**
     * What a container sees of an unpacked tree: per path, type, mode (with setuid/setgid/sticky),
     * owner, content sha256 or link target, device numbers. Timestamps are not compared.
     */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(root)) {
                    record(dir, attrs);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                record(file, attrs);
                return FileVisitResult.CONTINUE;
            }

            private void record(Path p, BasicFileAttributes attrs) throws IOException {
                Map<String, Object> u = Files.readAttributes(p, "unix:mode,uid,gid,rdev", LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) u.get("mode");
                String what;
                if (attrs.isSymbolicLink()) {
                    what = "symlink -> " + Files.readSymbolicLink(p);
                } else if (attrs.isDirectory()) {
                    what = "dir";
                } else if (attrs.isRegularFile()) {
                    try (InputStream in = Files.newInputStream(p)) {
                        what = "file " + attrs.size() + " " + io.layerswarm.refactor.index.LayerScanner.hash(in);
                    }
                } else {
                    what = "special " + Integer.toOctalString(mode & 0170000) + " rdev=" + u.get("rdev");
                }
                String perms = attrs.isSymbolicLink() ? "" : Integer.toOctalString(mode & 07777);
                out.put(root.relativize(p).toString(), what + " " + perms + " " + u.get("uid") + ":" + u.get("gid"));
            }
        });
        return out;
    }
}
