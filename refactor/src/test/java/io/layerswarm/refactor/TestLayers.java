package io.layerswarm.refactor;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.refactor.index.FileEntry;
import io.layerswarm.refactor.index.FileType;
import io.layerswarm.refactor.index.ImageTree;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/** Builds small gzip tar layers in memory from real file bytes, written the way image builders do. */
final class TestLayers {
    private TestLayers() {
    }

    /** Bytes of a real file of this machine. */
    static byte[] real(String path) {
        try {
            return Files.readAllBytes(Path.of(path));
        } catch (IOException e) {
            throw new UncheckedIOException("test needs the real file " + path, e);
        }
    }

    /** A layer under construction. */
    static final class Layer {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private final TarArchiveOutputStream tar;

        Layer() {
            try {
                tar = new TarArchiveOutputStream(new GZIPOutputStream(buf), "UTF-8");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        }

        Layer dir(String path) {
            return dir(path, 0755, 0);
        }

        Layer dir(String path, int mode, int uid) {
            TarArchiveEntry e = new TarArchiveEntry("./" + path + "/", TarConstants.LF_DIR);
            e.setMode(mode);
            e.setUserId(uid);
            e.setGroupId(uid);
            return put(e, null);
        }

        Layer file(String path, byte[] content) {
            return file(path, content, 0755, 0);
        }

        Layer file(String path, byte[] content, int mode, int uid) {
            TarArchiveEntry e = new TarArchiveEntry("./" + path);
            e.setMode(mode);
            e.setUserId(uid);
            e.setGroupId(uid);
            e.setSize(content.length);
            return put(e, content);
        }

        Layer symlink(String path, String target) {
            TarArchiveEntry e = new TarArchiveEntry("./" + path, TarConstants.LF_SYMLINK);
            e.setLinkName(target);
            e.setMode(0777);
            return put(e, null);
        }

        Layer hardlink(String path, String target) {
            TarArchiveEntry e = new TarArchiveEntry("./" + path, TarConstants.LF_LINK);
            e.setLinkName("./" + target);
            e.setMode(0755);
            return put(e, null);
        }

        Layer whiteout(String path) {
            int slash = path.lastIndexOf('/');
            String wh = slash < 0 ? ".wh." + path : path.substring(0, slash + 1) + ".wh." + path.substring(slash + 1);
            return file(wh, new byte[0], 0644, 0);
        }

        Layer opaque(String dir) {
            return file(dir + "/.wh..wh..opq", new byte[0], 0644, 0);
        }

        private Layer put(TarArchiveEntry e, byte[] content) {
            try {
                e.setModTime(1_700_000_000_000L);
                tar.putArchiveEntry(e);
                if (content != null) {
                    tar.write(content);
                }
                tar.closeArchiveEntry();
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
            return this;
        }

        byte[] bytes() {
            try {
                tar.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return buf.toByteArray();
        }
    }

    /** An in-memory registry of blobs. */
    static final class Blobs implements BlobSource {
        final Map<Digest, byte[]> blobs = new HashMap<>();

        Descriptor add(byte[] blob) {
            Digest d = Digest.sha256(blob);
            blobs.put(d, blob);
            return Descriptor.of(MediaTypes.OCI_LAYER_GZIP, d, blob.length);
        }

        SourceImage image(String name, Descriptor... layers) {
            StringBuilder diffIds = new StringBuilder();
            for (Descriptor d : layers) {
                try (InputStream in = new java.util.zip.GZIPInputStream(open(d))) {
                    diffIds.append(diffIds.length() == 0 ? "" : ",").append('"')
                            .append(Digest.sha256(in.readAllBytes())).append('"');
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            String config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\","
                    + "\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
                    + diffIds + "]},"
                    + "\"history\":[{\"created_by\":\"CMD [\\\"/bin/sh\\\"]\",\"empty_layer\":true}]}";
            return new SourceImage(name, config.getBytes(java.nio.charset.StandardCharsets.UTF_8), List.of(layers));
        }

        @Override
        public java.io.InputStream open(Descriptor blob) throws IOException {
            byte[] b = blobs.get(blob.digest());
            if (b == null) {
                throw new IOException("no blob " + blob.digest());
            }
            return new ByteArrayInputStream(b);
        }
    }

    /**
     * What a container sees: path to type/mode/owner/content/link target. Hard links count as regular
     * files with their content (the inode sharing is not part of what the tests compare).
     */
    static Map<String, String> view(ImageTree tree) {
        Map<String, String> out = new TreeMap<>();
        for (FileEntry e : tree.entries()) {
            FileType t = e.type() == FileType.HARDLINK ? FileType.REGULAR : e.type();
            out.put(e.path(), t + " " + Integer.toOctalString(e.mode()) + " " + e.uid() + ":" + e.gid() + " "
                    + (t == FileType.REGULAR ? e.sha256() : "") + " " + (t == FileType.SYMLINK ? e.linkTarget() : ""));
        }
        return out;
    }

    /** sha256 of the gunzipped file: the diff_id, computed independently of the code under test. */
    static Digest diffId(Path gzipLayer) throws IOException {
        try (InputStream in = new java.util.zip.GZIPInputStream(Files.newInputStream(gzipLayer))) {
            return Digest.sha256(in.readAllBytes());
        }
    }

    static List<String> paths(ImageTree tree) {
        return new ArrayList<>(tree.paths().keySet());
    }
}
