package io.layerswarm.cache.layer;

/**
 * Resource limits enforced while reading a layer, so a hostile layer cannot exhaust memory, disk or
 * time.
 *
 * @param maxEntries maximum number of entries (files, dirs, links, whiteouts...)
 * @param maxPathBytes maximum length of an entry name or link target, in UTF-8 bytes
 * @param maxHeaderBytes maximum size of one PAX extended header or GNU long-name record
 * @param maxTotalBytes maximum uncompressed size of the tar stream
 * @param maxCompressionRatio maximum uncompressed:compressed ratio, checked once more than
 *                            {@code ratioGraceBytes} were decompressed
 * @param ratioGraceBytes uncompressed bytes allowed before the ratio is enforced
 */
public record TarLimits(long maxEntries, int maxPathBytes, int maxHeaderBytes, long maxTotalBytes,
                        long maxCompressionRatio, long ratioGraceBytes) {

    /** Validates. */
    public TarLimits {
        if (maxEntries <= 0 || maxPathBytes <= 0 || maxHeaderBytes <= 0 || maxTotalBytes <= 0
                || maxCompressionRatio <= 0 || ratioGraceBytes < 0) {
            throw new IllegalArgumentException("tar limits must be positive");
        }
    }

    /**
     * Defaults generous enough for real images: 1M entries, 4096-byte paths, 1 MiB headers,
     * 32 GiB uncompressed, ratio 250:1 after the first 64 MiB.
     */
    public static TarLimits defaults() {
        return new TarLimits(1_000_000, 4096, 1 << 20, 32L << 30, 250, 64L << 20);
    }

    /** A copy with another entry limit. */
    public TarLimits withMaxEntries(long n) {
        return new TarLimits(n, maxPathBytes, maxHeaderBytes, maxTotalBytes, maxCompressionRatio, ratioGraceBytes);
    }

    /** A copy with another total-size limit. */
    public TarLimits withMaxTotalBytes(long n) {
        return new TarLimits(maxEntries, maxPathBytes, maxHeaderBytes, n, maxCompressionRatio, ratioGraceBytes);
    }

    /** A copy with another ratio limit and grace. */
    public TarLimits withCompressionRatio(long ratio, long graceBytes) {
        return new TarLimits(maxEntries, maxPathBytes, maxHeaderBytes, maxTotalBytes, ratio, graceBytes);
    }
}
