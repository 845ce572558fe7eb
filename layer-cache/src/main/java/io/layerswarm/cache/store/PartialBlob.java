package io.layerswarm.cache.store;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A blob being assembled from pieces, possibly out of order and from several threads (e.g. several
 * peers). Bytes go to a temp file; {@link #commit()} hashes the whole file and publishes it only if
 * it matches the expected digest. Obtain one from {@link ContentStore#openPartial(Digest, long)}.
 *
 * <p>{@link #close()} aborts unless the blob was committed, so use try-with-resources.
 */
public final class PartialBlob implements AutoCloseable {
    /**
     * Largest single file read or write: {@link FileChannel} copies a heap buffer through a temporary
     * direct buffer of the same size, which the JDK then keeps cached in the calling thread, so whole
     * 4 MiB pieces would park 4 MiB of native memory in every thread that ever moved one.
     */
    static final int MAX_IO = 64 * 1024;

    private final ContentStore store;
    private final Digest digest;
    private final long size;
    private final Path tmp;
    private final FileChannel channel;
    private final ContentStore.Reservation space;
    /** Writes hold the read lock (they may run in parallel); commit/abort hold the write lock. */
    private final ReentrantReadWriteLock stateLock = new ReentrantReadWriteLock();
    /** Covered byte ranges, start -> end (exclusive), non-overlapping and non-adjacent. */
    private final TreeMap<Long, Long> covered = new TreeMap<>();
    private long coveredBytes;
    private boolean finished;

    PartialBlob(ContentStore store, Digest digest, long size, Path tmp, FileChannel channel,
                ContentStore.Reservation space) {
        this.space = space;
        this.store = store;
        this.digest = digest;
        this.size = size;
        this.tmp = tmp;
        this.channel = channel;
    }

    /** The expected digest. */
    public Digest digest() {
        return digest;
    }

    /** The expected size in bytes. */
    public long size() {
        return size;
    }

    /**
     * Writes one piece at {@code offset}. Thread-safe; pieces may overlap (the last write wins, and a
     * wrong byte is caught by the digest check at commit).
     *
     * @throws IllegalArgumentException if the piece lies outside {@code [0, size)}
     * @throws IllegalStateException if already committed or aborted
     */
    public void write(long offset, ByteBuffer piece) throws IOException {
        int len = piece.remaining();
        if (offset < 0 || offset > size || len > size - offset) {
            throw new IllegalArgumentException("piece [" + offset + ", " + (offset + len)
                    + ") lies outside blob " + digest + " of " + size + " bytes");
        }
        stateLock.readLock().lock();
        try {
            checkActive();
            long pos = offset;
            try {
                ByteBuffer slice = piece.duplicate();
                while (slice.position() < piece.limit()) {
                    slice.limit(Math.min(piece.limit(), slice.position() + MAX_IO));
                    pos += channel.write(slice, pos);
                }
                piece.position(piece.limit());
            } catch (IOException e) {
                throw store.diskFull(e, digest, size);
            }
            if (len > 0) {
                space.consumed(markCovered(offset, offset + len));
            }
        } finally {
            stateLock.readLock().unlock();
        }
    }

    /** Records a written range; returns how many bytes were new. */
    private synchronized long markCovered(long start, long end) {
        Map.Entry<Long, Long> lower = covered.floorEntry(start);
        if (lower != null && lower.getValue() >= start) {
            start = lower.getKey();
            end = Math.max(end, lower.getValue());
        }
        Map.Entry<Long, Long> next = covered.ceilingEntry(start);
        while (next != null && next.getKey() <= end) {
            end = Math.max(end, next.getValue());
            covered.remove(next.getKey());
            next = covered.ceilingEntry(start);
        }
        covered.put(start, end);
        long total = 0;
        for (Map.Entry<Long, Long> e : covered.entrySet()) {
            total += e.getValue() - e.getKey();
        }
        long added = total - coveredBytes;
        coveredBytes = total;
        return added;
    }

    /**
     * Reads back bytes already written, so verified pieces can be served to other peers while the
     * rest is still arriving. Read large ranges in slices (the returned buffer is on the heap).
     *
     * @throws IOException if any part of the range has not been written
     */
    public ByteBuffer read(long offset, int length) throws IOException {
        if (offset < 0 || length < 0 || length > size - offset) {
            throw new IllegalArgumentException("range [" + offset + ", " + (offset + length)
                    + ") lies outside blob " + digest + " of " + size + " bytes");
        }
        if (!isCovered(offset, offset + length)) {
            throw new IOException("range [" + offset + ", " + (offset + length) + ") of " + digest
                    + " has not been written");
        }
        stateLock.readLock().lock();
        try {
            checkActive();
            ByteBuffer out = ByteBuffer.allocate(length);
            while (out.position() < length) {
                out.limit(Math.min(length, out.position() + MAX_IO));
                if (channel.read(out, offset + out.position()) < 0) {
                    throw new IOException("partial blob " + digest + " shorter than written ranges");
                }
            }
            return out.flip();
        } finally {
            stateLock.readLock().unlock();
        }
    }

    private synchronized boolean isCovered(long start, long end) {
        if (start == end) {
            return true;
        }
        Map.Entry<Long, Long> e = covered.floorEntry(start);
        return e != null && e.getValue() >= end;
    }

    /** Number of distinct bytes written so far. */
    public synchronized long bytesWritten() {
        return coveredBytes;
    }

    /** Whether every byte of the blob has been written at least once. */
    public boolean isComplete() {
        return bytesWritten() == size;
    }

    /**
     * Verifies the assembled blob against its digest and publishes it atomically. On mismatch the
     * temp file is deleted and this blob is aborted.
     *
     * @throws IOException if bytes are missing (the blob stays open so they can still be written)
     * @throws DigestMismatchException if the content does not match (the blob is aborted)
     */
    public void commit() throws IOException {
        stateLock.writeLock().lock();
        try {
            checkActive();
            long have = bytesWritten();
            if (have != size) {
                throw new IOException("blob " + digest + " is incomplete: " + have + " of " + size
                        + " bytes written");
            }
            boolean ok = false;
            try {
                channel.force(true);
                MessageDigest md = digest.newMessageDigest();
                ByteBuffer buf = ByteBuffer.allocate(MAX_IO);
                long pos = 0;
                while (pos < size) {
                    buf.clear();
                    int n = channel.read(buf, pos);
                    if (n < 0) {
                        break;
                    }
                    buf.flip();
                    md.update(buf);
                    pos += n;
                }
                Digest actual = Digest.fromHash(digest.algorithm(), md.digest());
                if (pos != size || !actual.equals(digest)) {
                    throw new DigestMismatchException(digest, actual, "assembled blob hashes to "
                            + actual + ", expected " + digest + " (" + size + " bytes); discarded");
                }
                channel.close();
                store.publish(tmp, digest, size);
                ok = true;
            } catch (IOException e) {
                throw store.diskFull(e, digest, size);
            } finally {
                space.close();
                finished = true;
                if (!ok) {
                    closeAndDelete();
                }
            }
        } finally {
            stateLock.writeLock().unlock();
        }
    }

    /** Discards everything written. Idempotent; a no-op after a successful commit. */
    public void abort() {
        stateLock.writeLock().lock();
        try {
            if (!finished) {
                finished = true;
                space.close();
                closeAndDelete();
            }
        } finally {
            stateLock.writeLock().unlock();
        }
    }

    /** Same as {@link #abort()}. */
    @Override
    public void close() {
        abort();
    }

    private void closeAndDelete() {
        try {
            channel.close();
        } catch (IOException e) {
            // The temp file is deleted below regardless.
        }
        ContentStore.deleteQuietly(tmp);
    }

    private void checkActive() {
        if (finished) {
            throw new IllegalStateException("partial blob " + digest + " was already committed or aborted");
        }
        store.ensureOpen();
    }
}
