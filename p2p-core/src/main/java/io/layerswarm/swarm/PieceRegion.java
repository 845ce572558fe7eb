package io.layerswarm.swarm;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The bytes of one piece in the {@link PieceSink}, written in order by one streaming request while it
 * hashes them, so a fetched piece never sits whole on the heap. The download hands a region to at most
 * one request at a time and marks the piece complete only once the hash of what was written matches;
 * a region whose request failed or lied is simply written again by the next one.
 *
 * <p>{@link #revoke()} waits for a write in progress and refuses every later one, so once it returns
 * the region can be given to another writer (another request, or the loop writing an endgame copy).
 * {@link #finish()} seals the region the same way.
 */
public final class PieceRegion extends OutputStream {
    /** Largest read and write: a piece is never held whole. */
    private static final int SLICE = 64 * 1024;
    private final PieceSink sink;
    private final long offset;
    private final int length;
    private final MessageDigest sha256;
    private int written;
    /** No more writes: revoked or finished. */
    private boolean closed;
    private boolean revoked;

    /**
     * @param sink where the piece goes
     * @param offset the piece's offset in the blob
     * @param length the piece's length
     */
    public PieceRegion(PieceSink sink, long offset, int length) {
        this.sink = sink;
        this.offset = offset;
        this.length = length;
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }

    /** The piece's length in bytes. */
    public int length() {
        return length;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    /**
     * Appends bytes of the piece: written to the sink at the next position, and hashed.
     *
     * @throws IOException if the region was revoked or finished, or the bytes run past the piece
     */
    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("piece region at " + offset + " is no longer this request's to write");
        }
        if (len > length - written) {
            throw new IOException("piece at " + offset + " has " + length + " bytes; source sent more");
        }
        sink.write(offset + written, ByteBuffer.wrap(b, off, len));
        sha256.update(b, off, len);
        written += len;
    }

    /**
     * Reads the rest of the piece from {@code in} (exactly the bytes still missing) and writes it, in
     * slices of at most 64 KiB.
     *
     * @throws java.io.EOFException if {@code in} ends first
     */
    public void copyFrom(java.io.InputStream in) throws IOException {
        int missing;
        synchronized (this) {
            missing = length - written;
        }
        byte[] slice = new byte[Math.min(Math.max(missing, 1), SLICE)];
        while (missing > 0) {
            int n = in.read(slice, 0, Math.min(slice.length, missing));
            if (n < 0) {
                throw new java.io.EOFException("source sent " + (length - missing) + " of " + length + " bytes");
            }
            write(slice, 0, n);
            missing -= n;
        }
    }

    /**
     * Bytes written so far, from the piece's start: they are in the sink, in order. Whether they are the
     * piece's bytes is known only once the piece verified with this region not {@linkplain #revoked()
     * revoked} (a region whose bytes turn out not to be the piece's is revoked).
     */
    public synchronized int written() {
        return written;
    }

    /** Refuses every later write, after the one in progress. Idempotent. */
    public synchronized void revoke() {
        closed = true;
        revoked = true;
    }

    /** Whether {@link #revoke()} was called. */
    public synchronized boolean revoked() {
        return revoked;
    }

    /**
     * Seals the region after its request's last byte and returns the sha256 of what was written.
     *
     * @throws IOException if it was revoked or fewer than {@link #length()} bytes came
     */
    public synchronized byte[] finish() throws IOException {
        if (closed) {
            throw new IOException("piece region at " + offset + (revoked ? " was revoked" : " was finished already"));
        }
        closed = true;
        if (written != length) {
            throw new IOException("piece at " + offset + ": source sent " + written + " of " + length + " bytes");
        }
        return sha256.digest();
    }
}
