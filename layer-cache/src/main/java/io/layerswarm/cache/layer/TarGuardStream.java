package io.layerswarm.cache.layer;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;

/**
 * Sits between the decompressor and the tar parser. It enforces the total-size and compression
 * ratio limits, and follows the tar block structure itself so that PAX / GNU long-name headers are
 * rejected by their declared size before the tar parser buffers them in memory.
 */
final class TarGuardStream extends FilterInputStream {
    private static final int BLOCK = 512;

    private final TarLimits limits;
    private final LongSupplier compressedBytes;
    private long pos;
    private long nextHeader;
    private final byte[] header = new byte[BLOCK];
    private int headerFill;
    private int zeroBlocks;
    private long headers;
    /** Meta header being captured (type x, g, L or K), or 0. */
    private byte metaType;
    private long metaEnd;
    private byte[] meta;
    private int metaFill;
    /** Size override from the last PAX header, applied to the next real header; -1 if none. */
    private long paxSize = -1;

    /**
     * @param in decompressed tar bytes
     * @param compressedBytes bytes consumed from the compressed source so far, or {@code null} if
     *                        the layer is not compressed
     */
    TarGuardStream(InputStream in, TarLimits limits, LongSupplier compressedBytes) {
        super(in);
        this.limits = limits;
        this.compressedBytes = compressedBytes;
    }

    long uncompressedBytes() {
        return pos;
    }

    /** Whether an end-of-archive (zero) block went by; without one, a tar that simply stops is truncated. */
    boolean sawEndOfArchive() {
        return zeroBlocks > 0;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            observe(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // Route skips through read so every byte is observed.
        byte[] buf = new byte[(int) Math.min(8192, Math.max(n, 1))];
        long done = 0;
        while (done < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - done));
            if (r < 0) {
                break;
            }
            done += r;
        }
        return done;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void observe(byte[] b, int off, int n) throws IOException {
        long start = pos;
        pos += n;
        if (pos > limits.maxTotalBytes()) {
            throw new InvalidLayerException(InvalidLayerException.Kind.LIMIT_EXCEEDED,
                    "layer expands to more than " + limits.maxTotalBytes() + " bytes (limit maxTotalBytes)");
        }
        if (compressedBytes != null && pos > limits.ratioGraceBytes()) {
            long c = Math.max(1, compressedBytes.getAsLong());
            if (pos / c > limits.maxCompressionRatio()) {
                throw new InvalidLayerException(InvalidLayerException.Kind.LIMIT_EXCEEDED,
                        "decompression bomb: " + c + " compressed bytes expanded to " + pos
                                + " (ratio over " + limits.maxCompressionRatio() + ":1)");
            }
        }
        if (zeroBlocks > 0) {
            return; // the tar parser stops at the first zero block; the rest is padding or ignored
        }
        int i = 0;
        while (i < n) {
            long p = start + i;
            if (p >= nextHeader && p < nextHeader + BLOCK) {
                int k = (int) Math.min(n - i, nextHeader + BLOCK - p);
                System.arraycopy(b, off + i, header, headerFill, k);
                headerFill += k;
                i += k;
                if (headerFill == BLOCK) {
                    headerFill = 0;
                    onHeader(nextHeader + BLOCK);
                    if (zeroBlocks > 0) {
                        return;
                    }
                }
            } else if (metaType != 0 && p < metaEnd) {
                int k = (int) Math.min(n - i, metaEnd - p);
                if (meta != null) {
                    int copy = Math.min(k, meta.length - metaFill);
                    System.arraycopy(b, off + i, meta, metaFill, copy);
                    metaFill += copy;
                }
                i += k;
                if (start + i >= metaEnd) {
                    onMetaDone();
                }
            } else {
                int k = (int) Math.min(n - i, nextHeader - p);
                i += Math.max(k, 1);
            }
        }
    }

    private void onHeader(long dataStart) throws IOException {
        boolean zero = true;
        for (byte x : header) {
            if (x != 0) {
                zero = false;
                break;
            }
        }
        if (zero) {
            zeroBlocks++;
            nextHeader = dataStart;
            return;
        }
        if (++headers > limits.maxEntries() * 4 + 16) {
            throw new InvalidLayerException(InvalidLayerException.Kind.LIMIT_EXCEEDED,
                    "layer has too many tar headers (limit maxEntries=" + limits.maxEntries() + ")");
        }
        byte type = header[156];
        long size = parseSize();
        switch (type) {
            case 'x', 'g', 'L', 'K' -> {
                if (size > limits.maxHeaderBytes()) {
                    throw new InvalidLayerException(InvalidLayerException.Kind.LIMIT_EXCEEDED,
                            "tar extended header of " + size + " bytes exceeds the limit of "
                                    + limits.maxHeaderBytes() + " (maxHeaderBytes)");
                }
                metaType = type;
                metaEnd = dataStart + size;
                meta = type == 'x' || type == 'g' ? new byte[(int) size] : null;
                metaFill = 0;
                if (size == 0) {
                    onMetaDone();
                }
            }
            case 'S' -> throw new InvalidLayerException(InvalidLayerException.Kind.UNSUPPORTED,
                    "GNU sparse tar entries are not supported in layers");
            default -> {
                if (paxSize >= 0) {
                    size = paxSize;
                    paxSize = -1;
                }
            }
        }
        nextHeader = dataStart + roundUp(size);
    }

    private void onMetaDone() throws IOException {
        if (meta != null) {
            long size = parsePaxSize(meta, metaFill);
            if (metaType == 'g' && size >= 0) {
                // The parser would apply a global size to every later entry; nothing legitimate does that.
                throw new InvalidLayerException(InvalidLayerException.Kind.UNSUPPORTED,
                        "global PAX header with a size record is not supported");
            }
            if (metaType == 'x') {
                paxSize = size;
            }
        }
        metaType = 0;
        meta = null;
    }

    private static long roundUp(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK;
    }

    private long parseSize() throws IOException {
        if ((header[124] & 0x80) != 0) {
            // base-256: big-endian two's complement in the remaining bytes
            if ((header[124] & 0x40) != 0) {
                throw corrupt("negative size in tar header");
            }
            long v = header[124] & 0x3f;
            for (int i = 125; i < 136; i++) {
                if (v > (Long.MAX_VALUE >> 8)) {
                    throw corrupt("size overflow in tar header");
                }
                v = (v << 8) | (header[i] & 0xff);
            }
            return v;
        }
        long v = 0;
        int i = 124;
        while (i < 136 && (header[i] == ' ' || header[i] == 0)) {
            i++;
        }
        for (; i < 136; i++) {
            byte c = header[i];
            if (c == ' ' || c == 0) {
                break;
            }
            if (c < '0' || c > '7') {
                throw corrupt("invalid octal size in tar header");
            }
            v = (v << 3) | (c - '0');
        }
        return v;
    }

    /**
     * Finds a {@code size} record ("LEN size=VALUE\n") in PAX data; -1 if absent. Sparse records are
     * rejected because they change how the parser walks the blocks.
     */
    private static long parsePaxSize(byte[] data, int len) throws IOException {
        String text = new String(data, 0, len, StandardCharsets.UTF_8);
        int i = 0;
        long result = -1;
        while (i < text.length()) {
            int nl = text.indexOf('\n', i);
            if (nl < 0) {
                break;
            }
            String rec = text.substring(i, nl);
            i = nl + 1;
            int sp = rec.indexOf(' ');
            if (sp < 0) {
                continue;
            }
            String kv = rec.substring(sp + 1);
            if (kv.startsWith("GNU.sparse.")) {
                throw new InvalidLayerException(InvalidLayerException.Kind.UNSUPPORTED,
                        "sparse tar entries are not supported in layers");
            }
            if (kv.startsWith("size=")) {
                try {
                    result = Long.parseLong(kv.substring(5));
                } catch (NumberFormatException e) {
                    throw corrupt("invalid PAX size record");
                }
                if (result < 0) {
                    throw corrupt("negative PAX size record");
                }
            }
        }
        return result;
    }

    private static InvalidLayerException corrupt(String msg) {
        return new InvalidLayerException(InvalidLayerException.Kind.CORRUPT, msg);
    }
}
