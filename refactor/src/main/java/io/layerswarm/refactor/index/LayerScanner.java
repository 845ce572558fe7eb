package io.layerswarm.refactor.index;

import com.github.luben.zstd.ZstdInputStream;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.MediaTypes;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;

/**
 * Streams one layer blob and lists its entries with a sha256 of every regular file, without writing
 * the layer to disk. The blob digest and the diff_id are computed on the way; a blob whose digest
 * differs from the expected one is rejected. Hostile input (bad compression, truncated tar, paths
 * escaping the root, absurd entry counts) ends in an {@link IOException} naming the layer.
 */
public final class LayerScanner {
    /** Upper bound on entries per layer; keeps memory bounded on hostile input. */
    public static final int MAX_ENTRIES = 2_000_000;
    /** Upper bound on a normalised path. */
    public static final int MAX_PATH = 4096;
    private static final String WHITEOUT_PREFIX = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";

    private LayerScanner() {
    }

    /**
     * Scans one layer.
     *
     * @param blob the blob as stored in the registry (compressed as {@code mediaType} says)
     * @param mediaType the layer media type
     * @param expected the expected blob digest, or {@code null} to accept any
     * @param sink receives every regular file's content, or {@code null} to only hash it
     * @throws IOException if the blob is malformed or does not match {@code expected}
     */
    public static ScannedLayer scan(InputStream blob, String mediaType, Digest expected, ContentSink sink)
            throws IOException {
        MessageDigest blobHash = Digest.Algorithm.SHA256.newMessageDigest();
        CountingInputStream counted = new CountingInputStream(new DigestInputStream(blob, blobHash));
        MessageDigest tarHash = Digest.Algorithm.SHA256.newMessageDigest();
        String name = expected == null ? "layer" : "layer " + expected.shortHex(12);
        List<FileEntry> entries = new ArrayList<>();
        try (InputStream raw = new DigestInputStream(decompress(counted, mediaType), tarHash);
             TarArchiveInputStream tar = new TarArchiveInputStream(new BufferedInputStream(raw, 65536))) {
            TarArchiveEntry te;
            while ((te = tar.getNextEntry()) != null) {
                if (entries.size() >= MAX_ENTRIES) {
                    throw new IOException(name + ": more than " + MAX_ENTRIES + " entries");
                }
                FileEntry e = toEntry(te, tar, sink, name);
                if (e != null) {
                    entries.add(e);
                }
            }
            // Read the tar padding and any trailing bytes so both digests cover the whole stream.
            raw.transferTo(OutputStream.nullOutputStream());
            counted.transferTo(OutputStream.nullOutputStream());
        } catch (IOException | RuntimeException e) {
            if (e instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith(name)) {
                throw io;
            }
            throw new IOException(name + ": malformed layer: " + e, e);
        }
        Digest digest = Digest.fromHash(Digest.Algorithm.SHA256, blobHash.digest());
        if (expected != null && !expected.equals(digest)) {
            throw new IOException(name + ": blob digest mismatch, got " + digest);
        }
        return new ScannedLayer(digest, Digest.fromHash(Digest.Algorithm.SHA256, tarHash.digest()),
                counted.count, entries);
    }

    /** Opens the decompressing stream for a layer media type. */
    static InputStream decompress(InputStream in, String mediaType) throws IOException {
        if (MediaTypes.isGzipLayer(mediaType)) {
            return new GZIPInputStream(in, 65536);
        }
        if (MediaTypes.isZstdLayer(mediaType)) {
            return new ZstdInputStream(in);
        }
        if (MediaTypes.OCI_LAYER_TAR.equals(mediaType)) {
            return in;
        }
        throw new IOException("unsupported layer media type " + mediaType);
    }

    private static FileEntry toEntry(TarArchiveEntry te, TarArchiveInputStream tar, ContentSink sink, String name)
            throws IOException {
        String path = normalise(te.getName(), name);
        if (path.isEmpty()) {
            return null; // the root directory itself
        }
        int slash = path.lastIndexOf('/');
        String base = path.substring(slash + 1);
        String dir = slash < 0 ? "" : path.substring(0, slash);
        int mode = te.getMode() & 07777;
        long mtime = te.getModTime().getTime() / 1000;
        if (base.equals(OPAQUE)) {
            return new FileEntry(dir, FileType.OPAQUE, 0, 0, 0, 0, null, null, 0, 0, mtime, Map.of());
        }
        if (base.startsWith(WHITEOUT_PREFIX)) {
            String target = (dir.isEmpty() ? "" : dir + "/") + base.substring(WHITEOUT_PREFIX.length());
            if (base.length() == WHITEOUT_PREFIX.length()) {
                throw new IOException(name + ": empty whiteout name at " + path);
            }
            return new FileEntry(target, FileType.WHITEOUT, 0, 0, 0, 0, null, null, 0, 0, mtime, Map.of());
        }
        Map<String, String> xattrs = new TreeMap<>();
        for (Map.Entry<String, String> h : te.getExtraPaxHeaders().entrySet()) {
            if (h.getKey().startsWith("SCHILY.xattr.")) {
                xattrs.put(h.getKey().substring("SCHILY.xattr.".length()), h.getValue());
            }
        }
        long uid = te.getLongUserId();
        long gid = te.getLongGroupId();
        if (te.isLink()) {
            return new FileEntry(path, FileType.HARDLINK, mode, uid, gid, 0, null,
                    normalise(te.getLinkName(), name), 0, 0, mtime, xattrs);
        }
        if (te.isSymbolicLink()) {
            return new FileEntry(path, FileType.SYMLINK, mode, uid, gid, 0, null, te.getLinkName(), 0, 0, mtime, xattrs);
        }
        if (te.isDirectory()) {
            return new FileEntry(path, FileType.DIRECTORY, mode, uid, gid, 0, null, null, 0, 0, mtime, xattrs);
        }
        if (te.isCharacterDevice() || te.isBlockDevice() || te.isFIFO()) {
            FileType t = te.isCharacterDevice() ? FileType.CHAR_DEVICE : te.isBlockDevice() ? FileType.BLOCK_DEVICE : FileType.FIFO;
            return new FileEntry(path, t, mode, uid, gid, 0, null, null, te.getDevMajor(), te.getDevMinor(), mtime, xattrs);
        }
        if (!te.isFile()) {
            throw new IOException(name + ": unsupported tar entry type '" + (char) te.getLinkFlag() + "' at " + path);
        }
        long size = te.getSize();
        String sha = sink != null ? sink.accept(tar, size) : hash(tar);
        return new FileEntry(path, FileType.REGULAR, mode, uid, gid, size, sha, null, 0, 0, mtime, xattrs);
    }

    /** Hex sha256 of everything left in {@code in}. */
    public static String hash(InputStream in) throws IOException {
        MessageDigest md = Digest.Algorithm.SHA256.newMessageDigest();
        byte[] buf = new byte[65536];
        int n;
        while ((n = in.read(buf)) > 0) {
            md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Normalises a tar path: strips {@code ./} and leading/trailing slashes, folds {@code .}
     * components, and rejects {@code ..} so no entry can name anything outside the root.
     */
    public static String normalise(String raw, String layerName) throws IOException {
        if (raw == null || raw.length() > MAX_PATH) {
            throw new IOException(layerName + ": missing or oversized path");
        }
        StringBuilder out = new StringBuilder(raw.length());
        for (String part : raw.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                throw new IOException(layerName + ": path escapes the root: " + raw);
            }
            if (part.indexOf('\0') >= 0) {
                throw new IOException(layerName + ": NUL in path: " + raw);
            }
            if (out.length() > 0) {
                out.append('/');
            }
            out.append(part);
        }
        return out.toString();
    }

    private static final class CountingInputStream extends FilterInputStream {
        long count;

        CountingInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }
}
