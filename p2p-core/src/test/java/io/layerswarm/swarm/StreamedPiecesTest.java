package io.layerswarm.swarm;

import static io.layerswarm.swarm.TestSources.Behaviour.CORRUPT;
import static io.layerswarm.swarm.TestSources.Behaviour.GOOD;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Pieces written into the sink as they arrive ({@link StreamingPieceSource}), verified before they count. */
class StreamedPiecesTest extends DownloadFixture {

    /** Streams a {@link TestSources.Source}'s answer into the region in two halves. */
    static final class Streaming implements StreamingPieceSource {
        final TestSources.Source inner;
        final List<Integer> streamed = new CopyOnWriteArrayList<>();

        Streaming(TestSources.Source inner) {
            this.inner = inner;
        }

        @Override
        public String id() {
            return inner.id();
        }

        @Override
        public boolean isOrigin() {
            return inner.isOrigin();
        }

        @Override
        public CompletableFuture<ByteBuffer> fetch(long offset, int length) {
            return inner.fetch(offset, length);
        }

        @Override
        public CompletableFuture<Void> fetchInto(long offset, PieceRegion region) {
            streamed.add((int) (offset / PIECE));
            return inner.fetch(offset, region.length()).thenAccept(b -> {
                try {
                    int half = b.remaining() / 2;
                    region.write(b.array(), b.arrayOffset(), half);
                    region.write(b.array(), b.arrayOffset() + half, b.remaining() - half);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
    }

    @Test
    void aLyingStreamedPieceIsRewrittenByAnHonestSource() throws Exception {
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), null);
        Streaming liar = new Streaming(new TestSources.Source("liar", blob, false, 1, CORRUPT));
        Streaming honest = new Streaming(new TestSources.Source("honest", blob, false, 5, GOOD));
        d.addSource(liar, Bitfield.full(layout.count()));
        d.addSource(honest, Bitfield.full(layout.count()));
        DownloadResult r = await(d);
        assertTrue(sink.committed);
        assertArrayEquals(blob, sink.data);
        assertTrue(r.badPieces() >= 1, "the liar's streamed piece was rejected");
        assertEquals(Long.valueOf(blob.length), r.bytesBySource().get("honest"));
        assertTrue(loop.call(() -> loop.isBanned("liar")).get(5, TimeUnit.SECONDS));
        assertTrue(!honest.streamed.isEmpty(), "the honest peer streamed pieces into the sink");
    }

    @Test
    void aStreamingPeerAndAHeapCopyOfTheSamePieceLeaveOneWriter() throws Exception {
        // endgame: the slow streaming peer holds every piece's first request, the fast heap-only peer
        // copies them; whichever wins, the region holds one source's bytes
        BlobDownload d = start(OriginGate.whenNoPeerHolds(), DownloadConfig.defaults(), null);
        d.addSource(new Streaming(new TestSources.Source("slow", blob, false, 40, GOOD)), Bitfield.full(layout.count()));
        d.addSource(new TestSources.Source("fast", blob, false, 1, GOOD), Bitfield.full(layout.count()));
        await(d);
        assertTrue(sink.committed);
        assertArrayEquals(blob, sink.data);
    }

    @Test
    void aRegionHashesWhatItWroteAndRefusesWritesOnceRevokedOrFinished() throws Exception {
        byte[] piece = Arrays.copyOf(blob, 1000);
        MemorySink s = new MemorySink(Digest.sha256(blob), blob.length);
        PieceRegion region = new PieceRegion(s, 0, piece.length);
        region.copyFrom(new ByteArrayInputStream(piece));
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(piece), region.finish());
        assertArrayEquals(piece, Arrays.copyOf(s.data, piece.length));
        assertThrows(IOException.class, () -> region.write(piece, 0, 1), "finished");

        PieceRegion revoked = new PieceRegion(s, 0, piece.length);
        revoked.write(piece, 0, 10);
        revoked.revoke();
        assertThrows(IOException.class, () -> revoked.write(piece, 10, 10));
        assertThrows(IOException.class, revoked::finish);
        assertTrue(revoked.revoked());

        PieceRegion short1 = new PieceRegion(s, 0, piece.length);
        assertThrows(java.io.EOFException.class, () -> short1.copyFrom(new ByteArrayInputStream(piece, 0, 10)));
        assertThrows(IOException.class, short1::finish, "10 of 1000 bytes");
        PieceRegion tooLong = new PieceRegion(s, 0, 10);
        assertThrows(IOException.class, () -> tooLong.write(piece, 0, 11));
    }
}
