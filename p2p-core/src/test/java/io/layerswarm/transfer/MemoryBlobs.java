package io.layerswarm.transfer;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.Bitfield;
import io.layerswarm.swarm.PieceHashes;
import io.layerswarm.swarm.PieceLayout;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** One blob held whole or in part, with optional misbehaviour, for protocol tests. */
final class MemoryBlobs implements LocalBlobs {
    final Digest digest;
    final byte[] blob;
    final PieceLayout layout;
    volatile Bitfield held;
    volatile boolean corrupt;
    /** When set, reads wait until it is released (at most {@link #BLOCK_LIMIT}). */
    volatile CountDownLatch blockReads;
    /** Released once a read has started waiting on {@link #blockReads}. */
    final CountDownLatch readBlocked = new CountDownLatch(1);
    static final Duration BLOCK_LIMIT = Duration.ofSeconds(60);

    MemoryBlobs(byte[] blob, PieceLayout layout, Bitfield held) {
        this.blob = blob;
        this.digest = Digest.sha256(blob);
        this.layout = layout;
        this.held = held;
    }

    @Override
    public OptionalLong size(Digest d) {
        return d.equals(digest) ? OptionalLong.of(blob.length) : OptionalLong.empty();
    }

    @Override
    public Optional<Bitfield> pieces(Digest d, PieceLayout l) {
        return d.equals(digest) && l.equals(layout) ? Optional.of(held) : Optional.empty();
    }

    @Override
    public Optional<PieceHashes> hashes(Digest d, PieceLayout l) throws IOException {
        if (!d.equals(digest) || !held.isComplete()) {
            return Optional.empty();
        }
        return Optional.of(PieceHashes.compute(digest, l, new ByteArrayInputStream(blob)));
    }

    @Override
    public InputStream open(Digest d, long offset, int length) throws IOException {
        int first = (int) (offset / layout.pieceSize());
        int last = (int) ((offset + length - 1) / layout.pieceSize());
        for (int i = first; i <= last; i++) {
            if (!held.has(i)) {
                throw new IOException("piece " + i + " not held");
            }
        }
        CountDownLatch latch = blockReads;
        if (latch != null) {
            readBlocked.countDown();
            try {
                // bounded, so a test that forgets to release fails instead of hanging the server thread
                if (!latch.await(BLOCK_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
                    throw new IOException("test never released blocked reads within " + BLOCK_LIMIT);
                }
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        }
        byte[] out = java.util.Arrays.copyOfRange(blob, (int) offset, (int) offset + length);
        if (corrupt) {
            out[0] ^= 0x40;
        }
        return new ByteArrayInputStream(out);
    }
}
