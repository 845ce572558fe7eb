package io.layerswarm.node;

import io.layerswarm.swarm.PieceProgress;
import java.io.IOException;
import java.io.InterruptedIOException;

/**
 * Bytes {@code [offset, end)} of a blob still being fetched, handed out in order as soon as their
 * piece is verified. The last byte is held back until the whole blob has matched its digest: a blob
 * that fails (or whose verified pieces turn out wrong) makes reading fail instead, so a reader never
 * gets the complete range of a wrong blob. {@link #available()} never blocks, so an event loop can
 * poll it.
 */
final class VerifiedStream extends SlicedRangeStream {
    private static final int MAX_READ = 256 * 1024;

    private final PieceProgress progress;
    private final long deadlineNanos;
    private boolean closed;

    VerifiedStream(PieceProgress progress, Reader reader, long offset, long length, long deadlineNanos) {
        super(reader, offset, length, MAX_READ);
        this.progress = progress;
        this.deadlineNanos = deadlineNanos;
    }

    /** Bytes readable now without waiting; fails if the blob failed or did not arrive in time. */
    @Override
    public int available() throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (buffered() > 0) {
            return buffered();
        }
        if (progress.failure().isPresent()) {
            throw new IOException("blob failed, stream aborted: " + progress.failure().get().getMessage(),
                    progress.failure().get());
        }
        long position = position();
        long end = end();
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
    protected long awaitReadable(long position, long end) throws IOException {
        int n;
        while ((n = available()) == 0) {
            try {
                progress.awaitChange(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for pieces");
            }
        }
        return n;
    }

    @Override
    public void close() {
        closed = true;
    }
}
