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
 * Asks one peer about blobs over {@code /layerswarm/layer/1.0.0}. Every answer is checked for
 * consistency with the question; anything off is a {@link ProtocolException}. Blocking: callers run
 * it on their own threads.
 */
public final class LayerExchangeClient {
    private final StreamOpener streams;

    /** @param streams opens streams to the peer */
    public LayerExchangeClient(StreamOpener streams) {
        this.streams = Objects.requireNonNull(streams, "streams");
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
        try (Duplex d = streams.open()) {
            Frames.write(d.out(), req);
            d.out().flush();
            LayerResponse r = Frames.read(d.in(), LayerResponse.parser(), Frames.MAX_FRAME);
            if (r.getStatus() != Status.OK) {
                throw new RefusedException(r.getStatus(), truncate(r.getMessage()));
            }
            if (expectedSize >= 0 && r.getSize() != expectedSize) {
                throw new ProtocolException("peer says blob " + req.getDigest() + " has " + r.getSize()
                        + " bytes, expected " + expectedSize);
            }
            if (body != null) {
                body.read(r, d.in());
            }
            return r;
        }
    }

    private static String truncate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
