package io.layerswarm.cache.layer;

import com.github.luben.zstd.ZstdInputStream;
import io.layerswarm.cache.layer.InvalidLayerException.Kind;
import io.layerswarm.oci.MediaTypes;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Streams the entries of a layer (plain tar, gzip or zstd, detected from magic bytes) with all
 * safety limits of {@link TarLimits} applied and every path normalised and checked: absolute paths
 * and {@code ..} segments are rejected, hard-link targets likewise. This is the single tar-reading
 * mechanism of the project; {@link LayerApplier} is built on it.
 *
 * <pre>{@code
 * try (TarWalker w = TarWalker.open(in, mediaType, TarLimits.defaults())) {
 *     for (TarEntry e; (e = w.next()) != null; ) {
 *         if (e.type() == TarEntry.Type.FILE) consume(w.content());
 *     }
 * }
 * }</pre>
 *
 * Any problem is reported as {@link InvalidLayerException}. Not thread-safe.
 */
public final class TarWalker implements Closeable {
    /** How the tar stream is compressed. */
    public enum Compression {
        /** Plain tar. */
        NONE,
        /** gzip (RFC 1952), possibly multi-member. */
        GZIP,
        /** Zstandard. */
        ZSTD
    }

    private static final String XATTR_PREFIX = "SCHILY.xattr.";

    private final Compression compression;
    private final TarLimits limits;
    private final TarGuardStream guard;
    private final TarArchiveInputStream tar;
    private final InputStream content;
    private long entries;
    private TarEntry current;

    private TarWalker(Compression compression, TarLimits limits, TarGuardStream guard) {
        this.compression = compression;
        this.limits = limits;
        this.guard = guard;
        this.tar = new TarArchiveInputStream(guard, StandardCharsets.UTF_8.name());
        this.content = new EntryContent();
    }

    /**
     * Starts reading a layer.
     *
     * @param layer the layer blob (the walker closes it)
     * @param mediaType the layer's media type if known (checked against the content), else {@code null}
     * @param limits resource limits
     * @throws InvalidLayerException if the media type is not a layer type or contradicts the content
     */
    public static TarWalker open(InputStream layer, String mediaType, TarLimits limits) throws IOException {
        Objects.requireNonNull(layer, "layer");
        Objects.requireNonNull(limits, "limits");
        CountingStream raw = new CountingStream(layer);
        BufferedInputStream buffered = new BufferedInputStream(raw, 64 * 1024);
        boolean ok = false;
        try {
            Compression detected = detect(buffered);
            if (mediaType != null) {
                Compression declared = fromMediaType(mediaType);
                if (declared != detected) {
                    throw new InvalidLayerException(Kind.CORRUPT, "layer media type " + mediaType
                            + " says " + declared + " but the content is " + detected);
                }
            }
            InputStream decompressed = switch (detected) {
                case NONE -> buffered;
                case GZIP -> new GZIPInputStream(buffered, 64 * 1024);
                case ZSTD -> new ZstdInputStream(buffered);
            };
            TarGuardStream guard = new TarGuardStream(decompressed, limits,
                    detected == Compression.NONE ? null : raw::count);
            ok = true;
            return new TarWalker(detected, limits, guard);
        } catch (InvalidLayerException e) {
            throw e;
        } catch (IOException e) {
            throw new InvalidLayerException(Kind.CORRUPT, "layer is not a readable tar stream: " + e.getMessage(), e);
        } finally {
            if (!ok) {
                layer.close();
            }
        }
    }

    /** The compression maps a layer media type to. */
    public static Compression fromMediaType(String mediaType) throws InvalidLayerException {
        if (MediaTypes.isGzipLayer(mediaType)) {
            return Compression.GZIP;
        }
        if (MediaTypes.isZstdLayer(mediaType)) {
            return Compression.ZSTD;
        }
        if (MediaTypes.OCI_LAYER_TAR.equals(mediaType)) {
            return Compression.NONE;
        }
        throw new InvalidLayerException(Kind.UNSUPPORTED, "unsupported layer media type " + mediaType);
    }

    private static Compression detect(BufferedInputStream in) throws IOException {
        in.mark(8);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return Compression.GZIP;
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
            return Compression.ZSTD;
        }
        return Compression.NONE;
    }

    /** The detected compression. */
    public Compression compression() {
        return compression;
    }

    /** Uncompressed tar bytes read so far. */
    public long uncompressedBytes() {
        return guard.uncompressedBytes();
    }

    /**
     * The next entry, or {@code null} at the end of the archive. Unread content of the previous
     * entry is skipped.
     */
    public TarEntry next() throws IOException {
        TarArchiveEntry e;
        try {
            e = tar.getNextEntry();
        } catch (InvalidLayerException ex) {
            throw ex;
        } catch (IOException | RuntimeException ex) {
            throw corrupt(ex);
        }
        if (e == null) {
            current = null;
            if (!guard.sawEndOfArchive()) {
                throw new InvalidLayerException(Kind.CORRUPT, "layer is corrupt or truncated ("
                        + compression.name().toLowerCase(java.util.Locale.ROOT)
                        + " tar ends without an end-of-archive block after " + guard.uncompressedBytes() + " bytes)");
            }
            return null;
        }
        if (++entries > limits.maxEntries()) {
            throw new InvalidLayerException(Kind.LIMIT_EXCEEDED, "layer has more than "
                    + limits.maxEntries() + " entries (limit maxEntries)");
        }
        current = convert(e);
        return current;
    }

    /**
     * The content of the current entry (empty for anything but regular files). Valid until the next
     * call to {@link #next()}; closing it does nothing.
     */
    public InputStream content() {
        if (current == null) {
            throw new IllegalStateException("no current entry");
        }
        return content;
    }

    @Override
    public void close() throws IOException {
        tar.close();
    }

    private TarEntry convert(TarArchiveEntry e) throws InvalidLayerException {
        String rawName = e.getName();
        checkLength("entry name", rawName);
        if (e.isSparse()) {
            throw new InvalidLayerException(Kind.UNSUPPORTED, "sparse tar entry " + rawName + " is not supported");
        }
        TarEntry.Type type = switch (e.getLinkFlag()) {
            case '0', 0, '7' -> rawName.endsWith("/") ? TarEntry.Type.DIRECTORY : TarEntry.Type.FILE;
            case '1' -> TarEntry.Type.HARDLINK;
            case '2' -> TarEntry.Type.SYMLINK;
            case '3' -> TarEntry.Type.CHAR_DEVICE;
            case '4' -> TarEntry.Type.BLOCK_DEVICE;
            case '5' -> TarEntry.Type.DIRECTORY;
            case '6' -> TarEntry.Type.FIFO;
            default -> TarEntry.Type.OTHER;
        };
        String path = normalize(rawName, "entry");
        String link = null;
        if (type == TarEntry.Type.SYMLINK || type == TarEntry.Type.HARDLINK) {
            link = e.getLinkName();
            checkLength("link target of " + path, link);
            if (link.isEmpty() || link.indexOf('\0') >= 0) {
                throw new InvalidLayerException(Kind.CORRUPT, "entry " + path + " has an empty or invalid link target");
            }
            if (type == TarEntry.Type.HARDLINK) {
                link = normalize(link, "hard link target of " + path);
                if (link.isEmpty()) {
                    throw new InvalidLayerException(Kind.UNSAFE, "hard link " + path + " points at the root directory");
                }
            }
        }
        if (path.isEmpty() && type != TarEntry.Type.DIRECTORY) {
            throw new InvalidLayerException(Kind.UNSAFE, "entry '" + rawName + "' would replace the root directory");
        }
        FileTime mtime = e.getLastModifiedTime() != null ? e.getLastModifiedTime() : FileTime.fromMillis(0);
        long size = type == TarEntry.Type.FILE ? e.getSize() : 0;
        Map<String, String> xattrs = new TreeMap<>();
        for (Map.Entry<String, String> h : e.getExtraPaxHeaders().entrySet()) {
            if (h.getKey().startsWith(XATTR_PREFIX) && h.getKey().length() > XATTR_PREFIX.length()) {
                xattrs.put(h.getKey().substring(XATTR_PREFIX.length()), h.getValue());
            }
        }
        return new TarEntry(path, type, e.getMode() & 07777, e.getLongUserId(), e.getLongGroupId(), size, link,
                mtime, e.getDevMajor(), e.getDevMinor(), xattrs);
    }

    private void checkLength(String what, String s) throws InvalidLayerException {
        if (s.length() > limits.maxPathBytes()
                || s.getBytes(StandardCharsets.UTF_8).length > limits.maxPathBytes()) {
            throw new InvalidLayerException(Kind.LIMIT_EXCEEDED, what + " is longer than "
                    + limits.maxPathBytes() + " bytes (limit maxPathBytes): "
                    + s.substring(0, Math.min(80, s.length())) + "...");
        }
    }

    /**
     * Normalises a tar path to relative form, rejecting absolute paths and {@code ..}. A leading
     * {@code ./} and repeated or trailing slashes are dropped; the root is {@code ""}.
     */
    static String normalize(String raw, String what) throws InvalidLayerException {
        return RootGuard.normalize(raw, what);
    }

    private InvalidLayerException corrupt(Exception ex) {
        return new InvalidLayerException(Kind.CORRUPT, "layer is corrupt or truncated ("
                + compression.name().toLowerCase(java.util.Locale.ROOT) + " tar, after "
                + guard.uncompressedBytes() + " uncompressed bytes): " + ex.getMessage(), ex);
    }

    /** The current entry's bytes; translates decoder errors into {@link InvalidLayerException}. */
    private final class EntryContent extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return tar.read(b, off, len);
            } catch (InvalidLayerException ex) {
                throw ex;
            } catch (IOException | RuntimeException ex) {
                throw corrupt(ex);
            }
        }

        @Override
        public void close() {
            // The walker owns the underlying stream.
        }
    }

    /** Counts bytes taken from the compressed source, for the ratio limit. */
    private static final class CountingStream extends FilterInputStream {
        private long count;

        CountingStream(InputStream in) {
            super(in);
        }

        long count() {
            return count;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long s = in.skip(n);
            count += s;
            return s;
        }
    }
}
