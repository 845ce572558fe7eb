package io.layerswarm.swarm;

/**
 * How a blob is cut into pieces: all pieces are {@code pieceSize} bytes except possibly the last.
 *
 * @param blobSize size of the blob in bytes
 * @param pieceSize size of each piece (the last may be shorter)
 */
public record PieceLayout(long blobSize, int pieceSize) {
    /** Smallest piece size accepted: smaller pieces cost more in hashes and requests than they save. */
    public static final int MIN_PIECE_SIZE = 16 * 1024;
    /** Largest piece size accepted, bounding what one request may buffer. */
    public static final int MAX_PIECE_SIZE = 64 * 1024 * 1024;
    /** Default piece size. */
    public static final int DEFAULT_PIECE_SIZE = 4 * 1024 * 1024;
    /** Most pieces in one blob, bounding the piece-hash list a peer may send. */
    public static final int MAX_PIECES = 1 << 20;

    /** Validates. */
    public PieceLayout {
        if (blobSize < 0) {
            throw new IllegalArgumentException("blob size must not be negative: " + blobSize);
        }
        if (pieceSize < MIN_PIECE_SIZE || pieceSize > MAX_PIECE_SIZE) {
            throw new IllegalArgumentException("piece size " + pieceSize + " outside [" + MIN_PIECE_SIZE + ", "
                    + MAX_PIECE_SIZE + "]");
        }
        if (ceilDiv(blobSize, pieceSize) > MAX_PIECES) {
            throw new IllegalArgumentException("blob of " + blobSize + " bytes needs more than " + MAX_PIECES
                    + " pieces of " + pieceSize + " bytes");
        }
    }

    /**
     * Picks a piece size for a link: roughly what the link moves in a quarter second, so a single
     * piece request keeps the pipe busy without making stragglers expensive, clamped to
     * [256 KiB, 16 MiB] and a power of two.
     *
     * @param blobSize the blob's size
     * @param linkBytesPerSecond estimated link throughput, or 0 if unknown
     */
    public static PieceLayout forLink(long blobSize, long linkBytesPerSecond) {
        long target = linkBytesPerSecond <= 0 ? DEFAULT_PIECE_SIZE : linkBytesPerSecond / 4;
        target = Math.max(256 * 1024, Math.min(16L * 1024 * 1024, target));
        int size = Integer.highestOneBit((int) target);
        while (ceilDiv(blobSize, size) > MAX_PIECES) {
            size <<= 1;
        }
        return new PieceLayout(blobSize, size);
    }

    /** Number of pieces (0 for an empty blob). */
    public int count() {
        return (int) ceilDiv(blobSize, pieceSize);
    }

    private static long ceilDiv(long a, long b) {
        return a / b + (a % b == 0 ? 0 : 1);
    }

    /** Offset of piece {@code i}. */
    public long offset(int i) {
        check(i);
        return (long) i * pieceSize;
    }

    /** Length of piece {@code i}. */
    public int length(int i) {
        check(i);
        return (int) Math.min(pieceSize, blobSize - offset(i));
    }

    private void check(int i) {
        if (i < 0 || i >= count()) {
            throw new IndexOutOfBoundsException("piece " + i + " of " + count());
        }
    }
}
