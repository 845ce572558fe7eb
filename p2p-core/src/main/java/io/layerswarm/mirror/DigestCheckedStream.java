package io.layerswarm.mirror;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;

/**
 * Bytes {@code [offset, offset + length)} of a stored blob, read from its open file, with the whole
 * blob's digest checked before the range's last bytes are handed out: the bytes before the range are
 * hashed before the first read returns, those after it before the last one does. A blob that rotted on
 * disk makes that last read fail (and tells {@code onCorrupt}) instead of completing a response with
 * wrong bytes, as a blob still arriving from the swarm does. The file is not closed here: it belongs to
 * the response.
 */
final class DigestCheckedStream extends InputStream {
    private static final int BUFFER = 64 * 1024;

    private final FileChannel file;
    private final Digest digest;
    private final long size;
    private final long offset;
    private final long end;
    private final Runnable onCorrupt;
    private final MessageDigest md;
    private long position;
    private boolean prefixHashed;

    /**
     * @param file the blob, open for the response
     * @param size the blob's size
     * @param onCorrupt told if the blob does not match {@code digest}
     */
    DigestCheckedStream(FileChannel file, Digest digest, long size, long offset, long length, Runnable onCorrupt) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside blob of " + size);
        }
        this.file = file;
        this.digest = digest;
        this.size = size;
        this.offset = offset;
        this.end = offset + length;
        this.onCorrupt = onCorrupt;
        this.md = digest.newMessageDigest();
        this.position = offset;
    }

    @Override
    public int available() {
        return (int) Math.min(Integer.MAX_VALUE, end - position);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (position >= end) {
            return -1;
        }
        if (!prefixHashed) {
            hash(0, offset);
            prefixHashed = true;
        }
        int n = (int) Math.min(len, end - position);
        readFully(ByteBuffer.wrap(b, off, n), position);
        md.update(b, off, n);
        if (position + n == end) {
            hash(end, size);
            check(); // before these bytes, the range's last, are handed out
        }
        position += n;
        return n;
    }

    private void hash(long from, long to) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(BUFFER, Math.max(0, to - from)));
        for (long pos = from; pos < to; ) {
            buf.clear().limit((int) Math.min(buf.capacity(), to - pos));
            readFully(buf, pos);
            md.update(buf.array(), 0, buf.limit());
            pos += buf.limit();
        }
    }

    private void readFully(ByteBuffer dst, long at) throws IOException {
        long pos = at;
        while (dst.hasRemaining()) {
            int r = file.read(dst, pos);
            if (r < 0) {
                onCorrupt.run();
                throw new DigestMismatchException(digest, null, "stored blob " + digest + " ended at byte " + pos
                        + " of " + size + "; response aborted");
            }
            pos += r;
        }
    }

    private void check() throws DigestMismatchException {
        Digest actual = Digest.fromHash(digest.algorithm(), md.digest());
        if (!actual.equals(digest)) {
            onCorrupt.run();
            throw new DigestMismatchException(digest, actual, "stored blob " + digest + " hashes to " + actual
                    + " (rotted on disk); response aborted before its last bytes");
        }
    }
}
