package io.layerswarm.refactor.index;

import io.layerswarm.cache.layer.TarEntry;
import io.layerswarm.cache.layer.TarLimits;
import io.layerswarm.cache.layer.TarWalker;
import io.layerswarm.oci.Digest;

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

/**
 * Streams one layer blob and lists its entries with a sha256 of every regular file, without writing
 * the layer to disk. Tar reading is the project's hostile-safe {@link TarWalker} (limits, path checks);
 * this class adds the OCI whiteout semantics, content hashing and the blob digest check. A blob whose
 * digest differs from the expected one is rejected. Any bad input ends in an {@link IOException}
 * naming the layer.
 */
public final class LayerScanner {
    /** Resource limits for hostile layers (entries, path and header sizes, total size, compression ratio). */
    public static final TarLimits LIMITS = TarLimits.defaults();
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
        String name = expected == null ? "layer" : "layer " + expected.shortHex(12);
        List<FileEntry> entries = new ArrayList<>();
        try (TarWalker walker = TarWalker.open(counted, mediaType, LIMITS)) {
            TarEntry te;
            while ((te = walker.next()) != null) {
                FileEntry e = toEntry(te, walker, sink, name);
                if (e != null) {
                    entries.add(e);
                }
            }
            // Read any trailing bytes so the digest covers the whole blob.
            counted.transferTo(OutputStream.nullOutputStream());
        } catch (IOException | RuntimeException e) {
            if (e instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith(name)) {
                throw io;
            }
            throw new IOException(name + ": malformed layer: " + e.getMessage(), e);
        }
        Digest digest = Digest.fromHash(Digest.Algorithm.SHA256, blobHash.digest());
        if (expected != null && !expected.equals(digest)) {
            throw new IOException(name + ": blob digest mismatch, got " + digest);
        }
        return new ScannedLayer(digest, null, counted.count, entries);
    }

    private static FileEntry toEntry(TarEntry te, TarWalker walker, ContentSink sink, String name) throws IOException {
        String path = te.path();
        if (path.isEmpty()) {
            return null; // the root directory itself
        }
        String base = te.name();
        String dir = te.parent();
        int mode = te.mode();
        long mtime = te.mtime().toMillis() / 1000;
        if (base.equals(OPAQUE)) {
            return new FileEntry(dir, FileType.OPAQUE, 0, 0, 0, 0, null, null, 0, 0, mtime, Map.of());
        }
        if (base.startsWith(WHITEOUT_PREFIX)) {
            if (base.length() == WHITEOUT_PREFIX.length()) {
                throw new IOException(name + ": empty whiteout name at " + path);
            }
            String target = (dir.isEmpty() ? "" : dir + "/") + base.substring(WHITEOUT_PREFIX.length());
            return new FileEntry(target, FileType.WHITEOUT, 0, 0, 0, 0, null, null, 0, 0, mtime, Map.of());
        }
        long uid = te.uid();
        long gid = te.gid();
        return switch (te.type()) {
            case HARDLINK -> new FileEntry(path, FileType.HARDLINK, mode, uid, gid, 0, null, te.linkTarget(), 0, 0, mtime,
                    te.xattrs());
            case SYMLINK -> new FileEntry(path, FileType.SYMLINK, mode, uid, gid, 0, null, te.linkTarget(), 0, 0, mtime,
                    te.xattrs());
            case DIRECTORY -> new FileEntry(path, FileType.DIRECTORY, mode, uid, gid, 0, null, null, 0, 0, mtime, te.xattrs());
            case CHAR_DEVICE -> device(te, FileType.CHAR_DEVICE, mtime);
            case BLOCK_DEVICE -> device(te, FileType.BLOCK_DEVICE, mtime);
            case FIFO -> device(te, FileType.FIFO, mtime);
            case FILE -> {
                InputStream content = walker.content();
                String sha = sink != null ? sink.accept(content, te.size()) : hash(content);
                yield new FileEntry(path, FileType.REGULAR, mode, uid, gid, te.size(), sha, null, 0, 0, mtime, te.xattrs());
            }
            case OTHER -> throw new IOException(name + ": unsupported tar entry type at " + path);
        };
    }

    private static FileEntry device(TarEntry te, FileType type, long mtime) {
        return new FileEntry(te.path(), type, te.mode(), te.uid(), te.gid(), 0, null, null, te.devMajor(), te.devMinor(),
                mtime, te.xattrs());
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
