package io.layerswarm.transfer;

import com.google.protobuf.ByteString;
import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.Bitfield;
import io.layerswarm.swarm.PieceHashes;
import io.layerswarm.swarm.PieceLayout;
import io.layerswarm.swarm.pb.LayerExchangeProtos.LayerRequest;
import io.layerswarm.swarm.pb.LayerExchangeProtos.LayerResponse;
import io.layerswarm.swarm.pb.LayerExchangeProtos.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers layer-exchange requests from {@link LocalBlobs}: one request per stream on {@value #PROTOCOL}
 * ({@link #serve}), or a sequence of request/answer pairs on one stream on {@value #SESSION_PROTOCOL}
 * ({@link #serveSession}). At most a few piece uploads run at once (default 3); a request that cannot get
 * an upload slot within a short wait is answered {@code BUSY} so the requester goes elsewhere rather
 * than queueing behind us.
 */
public final class LayerExchangeServer {
    /** Protocol id of the exchange with one request per stream. */
    public static final String PROTOCOL = "/layerswarm/layer/1.0.0";
    /**
     * Protocol id of the exchange where one stream carries requests one after another: the same frames
     * as {@link #PROTOCOL}, and after each complete answer (its frame and, for a piece, exactly its data
     * bytes) the requester may send the next request or close the stream. Saves a stream negotiation
     * (a round trip, and CPU on both sides) per piece.
     */
    public static final String SESSION_PROTOCOL = "/layerswarm/layer/1.1.0";
    private static final Logger log = LoggerFactory.getLogger(LayerExchangeServer.class);
    private static final int MAX_REQUEST = 4096;
    private static final int COPY_CHUNK = 64 * 1024;

    private final LocalBlobs blobs;
    private final Semaphore uploads;
    private final Duration slotWait;
    private final AtomicLong bytesServed = new AtomicLong();

    /**
     * @param blobs what to serve
     * @param maxConcurrentUploads piece uploads allowed at once
     * @param slotWait how long a piece request may wait for an upload slot before {@code BUSY}
     */
    public LayerExchangeServer(LocalBlobs blobs, int maxConcurrentUploads, Duration slotWait) {
        this.blobs = Objects.requireNonNull(blobs, "blobs");
        if (maxConcurrentUploads < 1) {
            throw new IllegalArgumentException("maxConcurrentUploads must be positive");
        }
        this.uploads = new Semaphore(maxConcurrentUploads, true);
        this.slotWait = slotWait;
    }

    /** Piece bytes sent so far. */
    public long bytesServed() {
        return bytesServed.get();
    }

    /**
     * Serves one request read from {@code in}, answering on {@code out}. Malformed requests get a
     * {@code BAD_REQUEST} answer where possible and a {@link ProtocolException}.
     */
    public void serve(InputStream in, OutputStream out) throws IOException {
        LayerRequest req;
        try {
            req = Frames.read(in, LayerRequest.parser(), MAX_REQUEST);
        } catch (ProtocolException e) {
            reply(out, error(Status.BAD_REQUEST, e.getMessage()));
            throw e;
        }
        answer(req, out);
    }

    /**
     * Serves {@value #SESSION_PROTOCOL}: requests read from {@code in} one after another, each answered
     * in full on {@code out} before the next is read, until the requester ends the stream between two
     * requests (a normal return). Refusals ({@code NOT_FOUND}, {@code BUSY}, {@code UNAVAILABLE}, a range
     * outside the blob) leave the stream usable; a malformed request is answered {@code BAD_REQUEST} where
     * possible and ends the session with a {@link ProtocolException}, since nothing after it can be
     * trusted to be a frame boundary.
     *
     * @return how many requests were answered
     */
    public int serveSession(InputStream in, OutputStream out) throws IOException {
        int answered = 0;
        while (true) {
            LayerRequest req;
            try {
                req = Frames.readOrEnd(in, LayerRequest.parser(), MAX_REQUEST);
            } catch (ProtocolException e) {
                reply(out, error(Status.BAD_REQUEST, e.getMessage()));
                throw e;
            }
            if (req == null) {
                return answered;
            }
            answer(req, out);
            answered++;
        }
    }

    private void answer(LayerRequest req, OutputStream out) throws IOException {
        Digest digest;
        try {
            digest = Digest.parse(req.getDigest());
        } catch (IllegalArgumentException e) {
            reply(out, error(Status.BAD_REQUEST, e.getMessage()));
            throw new ProtocolException("bad digest in request: " + e.getMessage());
        }
        OptionalLong size = blobs.size(digest);
        if (size.isEmpty()) {
            reply(out, error(Status.NOT_FOUND, "no such blob " + digest));
            return;
        }
        switch (req.getKindCase()) {
            case HAVE -> serveHave(out, digest, size.getAsLong(), req.getHave().getPieceSize());
            case HASHES -> serveHashes(out, digest, size.getAsLong(), req.getHashes().getPieceSize());
            case PIECE -> servePiece(out, digest, size.getAsLong(), req.getPiece().getOffset(), req.getPiece().getLength());
            default -> {
                reply(out, error(Status.BAD_REQUEST, "request names no query"));
                throw new ProtocolException("request names no query");
            }
        }
    }

    private void serveHave(OutputStream out, Digest digest, long size, int pieceSize) throws IOException {
        Optional<PieceLayout> layout = layout(out, size, pieceSize);
        if (layout.isEmpty()) {
            return;
        }
        Bitfield have = blobs.pieces(digest, layout.get()).orElse(Bitfield.empty(layout.get().count()));
        reply(out, LayerResponse.newBuilder().setSize(size).setPieceSize(pieceSize)
                .setBitfield(ByteString.copyFrom(have.toBytes())).build());
    }

    private void serveHashes(OutputStream out, Digest digest, long size, int pieceSize) throws IOException {
        Optional<PieceLayout> layout = layout(out, size, pieceSize);
        if (layout.isEmpty()) {
            return;
        }
        if ((long) layout.get().count() * 32 > Frames.MAX_FRAME - 64) {
            reply(out, error(Status.BAD_REQUEST, "piece size too small for a blob of " + size + " bytes"));
            return;
        }
        Optional<PieceHashes> hashes = blobs.hashes(digest, layout.get());
        if (hashes.isEmpty()) {
            reply(out, error(Status.UNAVAILABLE, "piece hashes for " + pieceSize + "-byte pieces not known here"));
            return;
        }
        reply(out, LayerResponse.newBuilder().setSize(size).setPieceSize(pieceSize)
                .setHashes(ByteString.copyFrom(hashes.get().toBytes())).build());
    }

    private void servePiece(OutputStream out, Digest digest, long size, long offset, int length) throws IOException {
        if (offset < 0 || length <= 0 || length > PieceLayout.MAX_PIECE_SIZE || offset > size - length) {
            reply(out, error(Status.BAD_REQUEST, "range " + offset + "+" + length + " outside blob of " + size));
            return;
        }
        boolean slot;
        try {
            slot = uploads.tryAcquire(slotWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for an upload slot", e);
        }
        if (!slot) {
            reply(out, error(Status.BUSY, "all upload slots busy"));
            return;
        }
        try (InputStream data = openHeld(digest, offset, length)) {
            if (data == null) {
                reply(out, error(Status.UNAVAILABLE, "range " + offset + "+" + length + " not held yet"));
                return;
            }
            Frames.write(out, LayerResponse.newBuilder().setSize(size).setDataLength(length).build());
            long copied = copy(data, out);
            if (copied != length) {
                throw new IOException("local blob " + digest + " returned " + copied + " of " + length + " bytes");
            }
            out.flush();
            bytesServed.addAndGet(length);
            log.debug("event=piece_served blob={} offset={} bytes={}", digest.shortHex(12), offset, length);
        } finally {
            uploads.release();
        }
    }

    /**
     * Copies in 64 KiB writes ({@code transferTo} would write 8 KiB at a time, and every write to a
     * stream is a frame of its own, with its own header, encryption and flush).
     */
    private static long copy(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[COPY_CHUNK];
        long total = 0;
        int n;
        while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
            out.write(buf, 0, n);
            total += n;
        }
        return total;
    }

    private InputStream openHeld(Digest digest, long offset, int length) {
        try {
            return blobs.open(digest, offset, length);
        } catch (IOException e) {
            return null;
        }
    }

    private Optional<PieceLayout> layout(OutputStream out, long size, int pieceSize) throws IOException {
        try {
            return Optional.of(new PieceLayout(size, pieceSize));
        } catch (IllegalArgumentException e) {
            reply(out, error(Status.BAD_REQUEST, e.getMessage()));
            return Optional.empty();
        }
    }

    private static LayerResponse error(Status status, String message) {
        return LayerResponse.newBuilder().setStatus(status).setMessage(message).build();
    }

    private static void reply(OutputStream out, LayerResponse r) throws IOException {
        Frames.write(out, r);
        out.flush();
    }
}
