package io.layerswarm.node;

import io.layerswarm.swarm.PieceProgress;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;

/**
 * Bytes {@code [offset, end)} of a blob still being fetched, handed out in order as soon as their
 * piece is verified. The last byte is held back until the whole blob has matched its digest: a blob
 * that fails (or whose verified pieces turn out wrong) makes reading fail instead, so a reader never
 * gets the complete range of a wrong blob. {@link #available()} never blocks, so an event loop can
 * poll it.
 */
final class VerifiedStream extends InputStream {

    /** Reads verified bytes of the blob. */
    @FunctionalInterface
    interface Reader {
        ByteBuffer read(long offset, int length) throws IOException;
    }

    private static final int MAX_READ = 256 * 1024;

    private final PieceProgress progress;
    private final Reader reader;
    private final long end;
    private final long deadlineNanos;
    private long position;
    private ByteBuffer buffer = ByteBuffer.allocate(0);
    private boolean closed;

    VerifiedStream(PieceProgress progress, Reader reader, long offset, long length, long deadlineNanos) {
        this.progress = progress;
        this.reader = reader;
        this.position = offset;
        this.end = offset + length;
        this.deadlineNanos = deadlineNanos;
    }

    /** Bytes readable now without waiting; fails if the blob failed or did not arrive in time. */
    @Override
    public int available() throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (buffer.hasRemaining()) {
            return buffer.remaining();
        }
        if (progress.failure().isPresent()) {
            throw new IOException("blob failed, stream aborted: " + progress.failure().get().getMessage(),
                    progress.failure().get());
        }
        boolean complete = progress.isComplete();
        long limit = Math.min(end, progress.verifiedUpTo(position));
        if (!complete && limit == end) {
            limit--; // the digest check comes before the last byte
        }
        if (!complete && limit <= position && System.nanoTime() - deadlineNanos > 0) {
            throw new IOException("blob did not arrive in time: " + (end - position) + " bytes missing");
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(0, limit - position));
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
        if (!buffer.hasRemaining()) {
            if (position >= end) {
                return -1;
            }
            int n;
            while ((n = available()) == 0) {
                try {
                    progress.awaitChange(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted waiting for pieces");
                }
            }
            int want = Math.min(n, MAX_READ);
            buffer = reader.read(position, want);
            if (buffer.remaining() != want) {
                throw new IOException("read " + buffer.remaining() + " of " + want + " verified bytes");
            }
            position += want;
        }
        int k = Math.min(len, buffer.remaining());
        buffer.get(b, off, k);
        return k;
    }

    @Override
    public void close() {
        closed = true;
    }
}
