package io.layerswarm.registry;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * Hashes everything read through it and throws {@link DigestMismatchException} at end of stream if
 * the content does not match the expected digest (or size). A reader that sees EOF without an
 * exception has therefore read exactly the expected content. Reading beyond the expected size fails
 * at once, so a hostile server cannot make the reader buffer unbounded data.
 */
public final class DigestVerifyingInputStream extends BulkReadFilterInputStream {
    private final Digest expected;
    private final long expectedSize;
    private final MessageDigest md;
    private final String what;
    private long count;
    private boolean verified;

    /**
     * @param in the content
     * @param expected the digest it must have
     * @param expectedSize its size, or -1 if unknown
     * @param what a description for error messages
     */
    public DigestVerifyingInputStream(InputStream in, Digest expected, long expectedSize, String what) {
        this(in, expected, expectedSize, what, expected.newMessageDigest(), 0);
    }

    /** Continues a hash already fed with the first {@code alreadyRead} bytes (resume). */
    DigestVerifyingInputStream(InputStream in, Digest expected, long expectedSize, String what,
                               MessageDigest md, long alreadyRead) {
        super(in);
        this.expected = expected;
        this.expectedSize = expectedSize;
        this.md = md;
        this.what = what;
        this.count = alreadyRead;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n < 0) {
            verifyAtEof();
            return -1;
        }
        md.update(b, off, n);
        count += n;
        if (expectedSize >= 0 && count > expectedSize) {
            throw DigestMismatchException.of(what, expected, null, "more than the expected " + expectedSize + " bytes");
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // Skipped bytes must still be hashed.
        byte[] buf = new byte[8192];
        long left = n;
        while (left > 0) {
            int r = read(buf, 0, (int) Math.min(buf.length, left));
            if (r < 0) {
                break;
            }
            left -= r;
        }
        return n - left;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void mark(int readlimit) {
        // unsupported: hashing cannot be rewound
    }

    @Override
    public synchronized void reset() throws IOException {
        throw new IOException("mark/reset not supported");
    }

    /** Bytes read so far. */
    public long bytesRead() {
        return count;
    }

    /** Whether EOF was reached and the digest matched. */
    public boolean verified() {
        return verified;
    }

    private void verifyAtEof() throws IOException {
        if (verified) {
            return;
        }
        if (expectedSize >= 0 && count != expectedSize) {
            throw DigestMismatchException.of(what, expected, null, count + " bytes instead of " + expectedSize);
        }
        Digest actual = Digest.fromHash(expected.algorithm(), md.digest());
        if (!actual.equals(expected)) {
            throw DigestMismatchException.of(what, expected, actual, actual.toString());
        }
        verified = true;
    }
}
