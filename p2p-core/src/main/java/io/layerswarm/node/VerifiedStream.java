package io.layerswarm.node;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.PieceLayout;
import io.layerswarm.swarm.PieceProgress;
import io.layerswarm.swarm.PieceRegion;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Bytes {@code [offset, end)} of a blob still being fetched, handed out in order as soon as their
 * piece is verified. The last byte is held back until the whole blob has matched its digest: a blob
 * that fails (or whose verified pieces turn out wrong) makes reading fail instead, so a reader never
 * gets the complete range of a wrong blob. {@link #available()} never blocks, so an event loop can
 * poll it.
 *
 * <p>A read of the whole blob also hands out the bytes of a piece the registry is still sending, as
 * they arrive ({@link PieceProgress#arriving}), so a client's first byte does not wait for a whole
 * piece that shares the uplink with the pieces after it. The guarantee above holds for those
 * unverified bytes because the stream hashes exactly the bytes it hands out and checks that digest
 * before the last byte. So when such a piece is fetched again (its request failed or timed out, or
 * another copy won), the stream goes on from where it is with the new copy's bytes: if the bytes
 * already sent were the piece's, the client gets the blob without noticing; if they were not, the
 * digest check cuts it off before the last byte. (Cutting the client off at once instead failed
 * whole {@code ctr images pull}s whenever a peer's copy of a streamed piece won, seen in the testbed.)
 */
final class VerifiedStream extends SlicedRangeStream {
    private static final int MAX_READ = 256 * 1024;
    /** How often a blocked reader looks at a piece arriving from the registry (its bytes notify nobody). */
    private static final long ARRIVING_POLL_MILLIS = 5;

    private final PieceProgress progress;
    private final long deadlineNanos;
    private final Digest digest;
    /** The digest of the bytes handed out; null unless the stream covers the whole blob. */
    private final MessageDigest sent;
    private long handedOut;
    private boolean closed;

    /**
     * @param digest the blob's digest: a stream over the whole blob checks the bytes it hands out against it
     */
    VerifiedStream(PieceProgress progress, Reader reader, long offset, long length, long deadlineNanos, Digest digest) {
        super(reader, offset, length, MAX_READ);
        this.progress = progress;
        this.deadlineNanos = deadlineNanos;
        this.digest = digest;
        this.sent = offset == 0 && length == progress.layout().blobSize() && digest != null
                ? digest.algorithm().newMessageDigest() : null;
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
        if (!complete && limit <= position && sent != null) {
            limit = Math.max(limit, Math.min(end, arrivedUpTo(position)));
        }
        if (!complete && limit == end) {
            limit--; // the digest check comes before the last byte
        }
        if (!complete && limit <= position && System.nanoTime() - deadlineNanos > 0) {
            throw new IOException("blob did not arrive in time: " + (end - position) + " bytes missing");
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(0, limit - position));
    }

    /**
     * The end of the bytes the registry has written, in order, of the piece holding {@code position};
     * {@code position} if none. After a piece was fetched again this is its new copy's region.
     */
    private long arrivedUpTo(long position) {
        PieceLayout layout = progress.layout();
        int piece = (int) (position / layout.pieceSize());
        Optional<PieceRegion> region = progress.arrivingRegion(piece);
        if (region.isEmpty()) {
            return position;
        }
        long frontier = layout.offset(piece) + region.get().written();
        if (frontier <= position) {
            return position;
        }
        return frontier;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n <= 0 || sent == null) {
            return n;
        }
        sent.update(b, off, n);
        handedOut += n;
        if (handedOut == end()) {
            byte[] actual = sent.digest();
            if (!MessageDigest.isEqual(actual, java.util.HexFormat.of().parseHex(digest.hex()))) {
                throw new IOException("the bytes sent of " + digest + " do not match it: stream aborted before the last byte");
            }
        }
        return n;
    }

    @Override
    protected long awaitReadable(long position, long end) throws IOException {
        int n;
        while ((n = available()) == 0) {
            try {
                progress.awaitChange(sent != null ? ARRIVING_POLL_MILLIS : 50);
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
