package io.layerswarm.transfer;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.Bitfield;
import io.layerswarm.swarm.PieceHashes;
import io.layerswarm.swarm.PieceLayout;
import io.layerswarm.swarm.PieceRegion;
import io.layerswarm.swarm.pb.LayerExchangeProtos.HashesQuery;
import io.layerswarm.swarm.pb.LayerExchangeProtos.HaveQuery;
import io.layerswarm.swarm.pb.LayerExchangeProtos.LayerRequest;
import io.layerswarm.swarm.pb.LayerExchangeProtos.LayerResponse;
import io.layerswarm.swarm.pb.LayerExchangeProtos.PieceQuery;
import io.layerswarm.swarm.pb.LayerExchangeProtos.Status;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Asks one peer about blobs over the layer exchange. Every answer is checked for consistency with the
 * question; anything off is a {@link ProtocolException}. Blocking: callers run it on their own threads,
 * several at once if they like.
 *
 * <p>A stream the opener marks {@link Duplex#reusable()} ({@value LayerExchangeServer#SESSION_PROTOCOL})
 * goes back to a small pool after a complete answer (a refusal included) and carries the next request,
 * so a download's pieces from one peer need a handful of streams instead of one each. A stream that
 * failed in any way, or whose request was cancelled (interrupted), is closed and never reused: its
 * position in the request/answer sequence is unknown. A kept stream that turns out dead before any
 * answer (its connection went away while it sat idle) costs one retry on a new stream, not a failed
 * request. Streams idle for longer than the owner's sweep allows are closed by {@link #closeIdle}.
 */
public final class LayerExchangeClient implements java.io.Closeable {
    /** Reusable streams kept per peer at most (a download has up to 4 requests in flight to a peer). */
    public static final int MAX_IDLE = 8;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LayerExchangeClient.class);

    private final StreamOpener streams;
    /** Idle reusable streams, the most recently used first. Guarded by {@code this}. */
    private final java.util.ArrayDeque<Idle> idle = new java.util.ArrayDeque<>();
    private final java.util.concurrent.atomic.AtomicInteger opened = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger retried = new java.util.concurrent.atomic.AtomicInteger();
    private boolean closed;

    private record Idle(Duplex stream, long sinceNanos) {
    }

    /** @param streams opens streams to the peer */
    public LayerExchangeClient(StreamOpener streams) {
        this.streams = Objects.requireNonNull(streams, "streams");
    }

    /** Streams opened so far (each one a stream negotiation with the peer). */
    public int streamsOpened() {
        return opened.get();
    }

    /** Requests asked again on a new stream because the kept one they were sent on was dead. */
    public int retriedOnNewStream() {
        return retried.get();
    }

    /** Reusable streams waiting for a request now. */
    public synchronized int idleStreams() {
        return idle.size();
    }

    /** Closes the kept streams that have waited longer than {@code maxIdle} for a request. */
    public void closeIdle(java.time.Duration maxIdle) {
        long now = System.nanoTime();
        java.util.List<Duplex> expired = new java.util.ArrayList<>();
        synchronized (this) {
            // oldest last: stop at the first one still fresh
            while (!idle.isEmpty() && now - idle.peekLast().sinceNanos() > maxIdle.toNanos()) {
                expired.add(idle.pollLast().stream());
            }
        }
        expired.forEach(LayerExchangeClient::closeQuietly);
    }

    /** Closes the kept streams; requests still running finish on theirs, which are then closed too. */
    @Override
    public void close() {
        java.util.List<Duplex> all = new java.util.ArrayList<>();
        synchronized (this) {
            closed = true;
            idle.forEach(i -> all.add(i.stream()));
            idle.clear();
        }
        all.forEach(LayerExchangeClient::closeQuietly);
    }

    /** A peer's answer was a refusal rather than a protocol error (not found, busy, not yet held). */
    public static final class RefusedException extends IOException implements io.layerswarm.swarm.PieceSource.Refusal {
        private static final long serialVersionUID = 1L;
        private final Status status;

        RefusedException(Status status, String message) {
            super(status + ": " + message);
            this.status = status;
        }

        /** Why. */
        public Status status() {
            return status;
        }

        @Override
        public boolean busy() {
            return status == Status.BUSY;
        }

        /**
         * The server answers a piece it does not hold with {@code UNAVAILABLE} ("not held yet"), and one of a
         * blob it no longer has at all with {@code NOT_FOUND} (evicted since it announced it).
         */
        @Override
        public boolean notHeld() {
            return status == Status.UNAVAILABLE || status == Status.NOT_FOUND;
        }
    }

    /** Which pieces of {@code layout} the peer holds. */
    public Bitfield have(Digest digest, PieceLayout layout) throws IOException {
        LayerResponse r = ask(LayerRequest.newBuilder().setDigest(digest.toString())
                .setHave(HaveQuery.newBuilder().setPieceSize(layout.pieceSize())).build(), layout.blobSize(), null);
        try {
            return Bitfield.fromBytes(layout.count(), r.getBitfield().toByteArray());
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("bad bitfield: " + e.getMessage());
        }
    }

    /**
     * The size of a blob the peer holds, learned from a have query with the default piece size.
     */
    public long size(Digest digest) throws IOException {
        LayerResponse r = ask(LayerRequest.newBuilder().setDigest(digest.toString())
                .setHave(HaveQuery.newBuilder().setPieceSize(PieceLayout.DEFAULT_PIECE_SIZE)).build(), -1, null);
        return r.getSize();
    }

    /** The peer's piece hashes for {@code layout} (to be trusted only once the blob verifies). */
    public PieceHashes hashes(Digest digest, PieceLayout layout) throws IOException {
        LayerResponse r = ask(LayerRequest.newBuilder().setDigest(digest.toString())
                .setHashes(HashesQuery.newBuilder().setPieceSize(layout.pieceSize())).build(), layout.blobSize(), null);
        try {
            return new PieceHashes(digest, layout, r.getHashes().toByteArray());
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("bad piece hashes: " + e.getMessage());
        }
    }

    /** Bytes {@code [offset, offset + length)} of the blob, unverified. */
    public ByteBuffer piece(Digest digest, long blobSize, long offset, int length) throws IOException {
        ByteBuffer[] data = new ByteBuffer[1];
        askPiece(digest, blobSize, offset, length, in -> {
            // read into one array of the right size (readNBytes(int) gathers 8 KiB chunks, then copies)
            byte[] b = new byte[length];
            int n = in.readNBytes(b, 0, length);
            if (n != length) {
                throw new java.io.EOFException("peer sent " + n + " of " + length + " bytes");
            }
            data[0] = ByteBuffer.wrap(b);
        });
        return data[0];
    }

    /** The piece at {@code offset}, unverified, written into {@code region} as it arrives. */
    public void pieceInto(Digest digest, long blobSize, long offset, PieceRegion region) throws IOException {
        askPiece(digest, blobSize, offset, region.length(), region::copyFrom);
    }

    private interface PieceBody {
        void read(java.io.InputStream in) throws IOException;
    }

    private void askPiece(Digest digest, long blobSize, long offset, int length, PieceBody body) throws IOException {
        LayerRequest req = LayerRequest.newBuilder().setDigest(digest.toString())
                .setPiece(PieceQuery.newBuilder().setOffset(offset).setLength(length)).build();
        ask(req, blobSize, (r, in) -> {
            if (r.getDataLength() != length) {
                throw new ProtocolException("asked for " + length + " bytes, peer announced " + r.getDataLength());
            }
            body.read(in);
        });
    }

    private interface Body {
        void read(LayerResponse r, java.io.InputStream in) throws IOException;
    }

    private LayerResponse ask(LayerRequest req, long expectedSize, Body body) throws IOException {
        Duplex kept = takeIdle();
        if (kept != null) {
            try {
                return exchange(kept, true, req, expectedSize, body);
            } catch (DeadStreamException e) {
                retried.incrementAndGet();
                log.debug("event=layer_stream_dead_on_reuse reason=\"{}\"", e.getCause().toString());
            }
        }
        Duplex fresh = streams.open();
        opened.incrementAndGet();
        return exchange(fresh, false, req, expectedSize, body);
    }

    /** A kept stream failed before any answer came: the request may be asked again on a new stream. */
    private static final class DeadStreamException extends IOException {
        private static final long serialVersionUID = 1L;

        DeadStreamException(IOException cause) {
            super(cause);
        }
    }

    private LayerResponse exchange(Duplex d, boolean kept, LayerRequest req, long expectedSize, Body body)
            throws IOException {
        boolean reuse = false;
        try {
            LayerResponse r;
            try {
                Frames.write(d.out(), req);
                d.out().flush();
                r = Frames.read(d.in(), LayerResponse.parser(), Frames.MAX_FRAME);
            } catch (java.io.InterruptedIOException | ProtocolException e) {
                throw e;
            } catch (IOException e) {
                if (kept && !Thread.currentThread().isInterrupted()) {
                    throw new DeadStreamException(e);
                }
                throw e;
            }
            if (r.getStatus() != Status.OK) {
                reuse = true; // a refusal is a complete answer: the stream is still in step
                throw new RefusedException(r.getStatus(), truncate(r.getMessage()));
            }
            if (expectedSize >= 0 && r.getSize() != expectedSize) {
                throw new ProtocolException("peer says blob " + req.getDigest() + " has " + r.getSize()
                        + " bytes, expected " + expectedSize);
            }
            if (body != null) {
                body.read(r, d.in());
            }
            reuse = true;
            return r;
        } finally {
            if (reuse && d.reusable() && !Thread.currentThread().isInterrupted()) {
                giveBack(d);
            } else {
                closeQuietly(d);
            }
        }
    }

    private synchronized Duplex takeIdle() {
        Idle i = idle.pollFirst();
        return i == null ? null : i.stream();
    }

    private void giveBack(Duplex d) {
        synchronized (this) {
            if (!closed && idle.size() < MAX_IDLE) {
                idle.addFirst(new Idle(d, System.nanoTime()));
                return;
            }
        }
        closeQuietly(d);
    }

    private static void closeQuietly(Duplex d) {
        try {
            d.close();
        } catch (IOException | RuntimeException e) {
            log.debug("event=layer_stream_close_failed reason=\"{}\"", e.toString());
        }
    }

    private static String truncate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
