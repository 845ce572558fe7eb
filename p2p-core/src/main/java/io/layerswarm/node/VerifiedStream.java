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
 * piece that shares the uplink with the pieces after it. Two rules keep the guarantee above for those
 * unverified bytes: the stream hashes exactly the bytes it hands out and checks that digest before
 * the last byte; and once it handed out bytes of a piece's region, it fails as soon as that region is
 * revoked (the request failed or timed out, or another copy of the piece won), so a piece fetched
 * again is never spliced onto bytes already sent.
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
    /**
     * The arriving regions whose unverified bytes this stream has read, by piece, until their pieces
     * verify (more than one when the stream reads all of a piece before the download has checked it).
     */
    private final java.util.Map<Integer, PieceRegion> reading = new java.util.HashMap<>();
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
        checkArriving();
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
     * {@code position} if none. Taking bytes from a region makes it the one {@link #checkArriving} watches.
     */
    private long arrivedUpTo(long position) throws IOException {
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
        PieceRegion before = reading.putIfAbsent(piece, region.get());
        if (before != null && before != region.get()) {
            // only reachable if a region were replaced without being revoked; never splice regardless
            throw new IOException("piece " + piece + " of " + digest + " is being fetched again after bytes of it"
                    + " were sent: stream aborted");
        }
        return frontier;
    }

    /**
     * Fails if the region this stream took unverified bytes from was revoked: they may not be the
     * piece's, and the piece will be fetched again. Forgets the region once its piece verified with it.
     */
    private void checkArriving() throws IOException {
        for (java.util.Iterator<java.util.Map.Entry<Integer, PieceRegion>> it = reading.entrySet().iterator(); it.hasNext(); ) {
            java.util.Map.Entry<Integer, PieceRegion> e = it.next();
            // verified first: a region that loses to another copy is revoked before that copy verifies
            boolean verified = progress.isVerified(e.getKey());
            if (e.getValue().revoked()) {
                throw new IOException("piece " + e.getKey() + " of " + digest + " is being fetched again after bytes of"
                        + " it were sent: stream aborted");
            }
            if (verified) {
                it.remove();
            }
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n <= 0 || sent == null) {
            return n;
        }
        checkArriving(); // after the bytes were read from the blob: they were the region's if it still stands
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
