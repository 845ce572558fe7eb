package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.PieceLayout;
import io.layerswarm.swarm.PieceProgress;
import io.layerswarm.swarm.PieceRegion;
import io.layerswarm.swarm.PieceSink;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A stream over a whole blob hands out the registry's bytes of a piece as they arrive, and keeps "no
 * reader gets a complete wrong blob": it fails once a region it read from is revoked (the piece is
 * fetched again, never spliced), and it checks the digest of exactly what it handed out before the
 * last byte. Everything runs on the test thread: regions, progress and the stream are driven by hand.
 */
class VerifiedStreamTest {
    static final int PIECE = 16 * 1024;

    byte[] blob;
    Digest digest;
    PieceLayout layout;
    PieceProgress progress;
    /** The partial blob: what regions wrote. */
    byte[] file;
    PieceSink sink;

    @BeforeEach
    void setUp() {
        blob = new byte[3 * PIECE + 1234];
        new Random(7).nextBytes(blob);
        digest = Digest.sha256(blob);
        layout = new PieceLayout(blob.length, PIECE);
        progress = new PieceProgress(layout);
        file = new byte[blob.length];
        sink = new PieceSink() {
            @Override
            public synchronized void write(long offset, ByteBuffer data) {
                data.get(file, (int) offset, data.remaining());
            }

            @Override
            public void commit() {
            }

            @Override
            public void abort() {
            }
        };
    }

    VerifiedStream wholeBlob() {
        return stream(0, blob.length);
    }

    VerifiedStream stream(long offset, long length) {
        return new VerifiedStream(progress, (off, len) -> {
            synchronized (sink) {
                return ByteBuffer.wrap(Arrays.copyOfRange(file, (int) off, (int) off + len));
            }
        }, offset, length, System.nanoTime() + 60_000_000_000L, digest);
    }

    /** A region of {@code piece} registered as arriving from the registry. */
    PieceRegion arriving(int piece) {
        PieceRegion r = new PieceRegion(sink, layout.offset(piece), layout.length(piece));
        progress.arriving(piece, r);
        return r;
    }

    void write(PieceRegion r, byte[] source, int piece, int from, int to) throws IOException {
        r.write(source, (int) layout.offset(piece) + from, to - from);
    }

    /** Pieces {@code from}.. arrive whole from the registry and verify; then the blob is complete. */
    void arriveRestAndComplete(int from) throws IOException {
        for (int p = from; p < layout.count(); p++) {
            PieceRegion r = arriving(p);
            write(r, blob, p, 0, layout.length(p));
            r.finish();
            progress.verified(p);
        }
        progress.complete();
    }

    /**
     * Reads {@code in} to its end, {@code alreadyRead} bytes having been read before, and asserts the
     * digest check cut it off before the last byte of the blob.
     */
    void assertCutBeforeTheLastByte(VerifiedStream in, long alreadyRead) {
        long got = alreadyRead;
        IOException cut = null;
        try {
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf, 0, buf.length)) > 0) {
                got += n;
            }
        } catch (IOException e) {
            cut = e;
        }
        assertTrue(cut != null && cut.getMessage().contains("do not match"), "not cut: " + cut);
        assertTrue(got < blob.length, "a complete wrong blob was handed out");
    }

    /** Reads exactly what is available now. */
    static byte[] readAvailable(VerifiedStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int n;
        while ((n = in.available()) > 0) {
            byte[] b = new byte[n];
            int k = in.read(b, 0, n);
            out.write(b, 0, k);
        }
        return out.toByteArray();
    }

    @Test
    void bytesOfAnArrivingRegistryPieceAreHandedOutBeforeThePieceIsCompleteAndTheBlobIsByteIdentical() throws Exception {
        VerifiedStream in = wholeBlob();
        assertEquals(0, in.available(), "nothing has arrived");
        PieceRegion r0 = arriving(0);
        write(r0, blob, 0, 0, 1000);
        assertArrayEquals(Arrays.copyOf(blob, 1000), readAvailable(in), "the first 1000 bytes, piece 0 incomplete");
        write(r0, blob, 0, 1000, PIECE);
        r0.finish();
        progress.verified(0);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.write(blob, 0, 1000);
        all.write(readAvailable(in));
        for (int p = 1; p < layout.count(); p++) {
            PieceRegion r = arriving(p);
            write(r, blob, p, 0, layout.length(p) / 2);
            all.write(readAvailable(in));
            write(r, blob, p, layout.length(p) / 2, layout.length(p));
            r.finish();
            progress.verified(p);
            all.write(readAvailable(in));
        }
        assertEquals(blob.length - 1, all.size(), "the last byte waits for the digest check");
        progress.complete();
        all.write(in.readAllBytes());
        assertArrayEquals(blob, all.toByteArray());
    }

    @Test
    void aReaderMayRunAheadIntoTheNextArrivingPieceBeforeTheDownloadCheckedTheLastOne() throws Exception {
        VerifiedStream in = wholeBlob();
        PieceRegion r0 = arriving(0);
        write(r0, blob, 0, 0, PIECE);
        PieceRegion r1 = arriving(1);
        write(r1, blob, 1, 0, 300);
        // all of piece 0 was written but not verified yet, and piece 1 arrives: both may be read
        assertArrayEquals(Arrays.copyOf(blob, PIECE + 300), readAvailable(in));
        r0.finish();
        progress.verified(0);
        write(r1, blob, 1, 300, 600);
        assertArrayEquals(Arrays.copyOfRange(blob, PIECE + 300, PIECE + 600), readAvailable(in));
        r1.revoke(); // piece 1's request fails after 600 of its bytes were sent
        assertEquals(0, in.available(), "nothing past what was sent until the new copy gets there");
        PieceRegion again = arriving(1);
        write(again, blob, 1, 0, 600);
        assertEquals(0, in.available(), "the new copy has not passed the bytes already sent");
        write(again, blob, 1, 600, 900);
        assertArrayEquals(Arrays.copyOfRange(blob, PIECE + 600, PIECE + 900), readAvailable(in),
                "the stream goes on with the new copy's bytes");
    }

    @Test
    void aPieceFetchedAgainAfterItsBytesWereSentIsContinuedAndTheBlobIsByteIdentical() throws Exception {
        VerifiedStream in = wholeBlob();
        PieceRegion first = arriving(0);
        write(first, blob, 0, 0, 5000);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.write(readAvailable(in));
        assertEquals(5000, all.size());
        // the registry request fails mid-piece: the download revokes the region and asks again
        first.revoke();
        arriveRestAndComplete(0); // piece 0 again, whole this time, then the others
        all.write(in.readAllBytes());
        assertArrayEquals(blob, all.toByteArray(), "a client that got bytes of the first copy still gets the blob");
    }

    @Test
    void wrongBytesOfACopyThatLostAreCaughtBeforeTheLastByte() throws Exception {
        VerifiedStream in = wholeBlob();
        byte[] wrong = blob.clone();
        wrong[10] ^= 1;
        PieceRegion first = arriving(0);
        write(first, wrong, 0, 0, 5000);
        assertEquals(5000, readAvailable(in).length);
        // the first copy is dropped and the piece fetched again, right this time: the client has a wrong byte
        first.revoke();
        arriveRestAndComplete(0); // piece 0 again, whole this time, then the others
        assertCutBeforeTheLastByte(in, 5000);
    }

    @Test
    void theDigestOfExactlyTheBytesSentIsCheckedBeforeTheLastByte() throws Exception {
        VerifiedStream in = wholeBlob();
        byte[] wrong = blob.clone();
        wrong[10] ^= 1;
        PieceRegion r0 = arriving(0);
        write(r0, wrong, 0, 0, PIECE);
        assertEquals(PIECE, readAvailable(in).length);
        // a (hypothetical) bug puts the right bytes on disk under a region that was never revoked: the
        // disk blob matches its digest, what this client got does not
        System.arraycopy(blob, 0, file, 0, PIECE);
        r0.finish();
        progress.verified(0);
        arriveRestAndComplete(1);
        assertCutBeforeTheLastByte(in, PIECE);
    }

    @Test
    void aRangeNotCoveringTheWholeBlobWaitsForVerifiedPieces() throws Exception {
        VerifiedStream in = stream(100, blob.length - 100);
        PieceRegion r0 = arriving(0);
        write(r0, blob, 0, 0, 5000);
        assertEquals(0, in.available(), "it cannot check the digest of what it sends, so no unverified bytes");
        write(r0, blob, 0, 5000, PIECE);
        r0.finish();
        progress.verified(0);
        assertEquals(PIECE - 100, in.available());
    }

    @Test
    void aFailedBlobAbortsAStreamThatGotArrivingBytes() throws Exception {
        VerifiedStream in = wholeBlob();
        PieceRegion r0 = arriving(0);
        write(r0, blob, 0, 0, 64);
        assertEquals(64, readAvailable(in).length);
        progress.fail(new IOException("registry gone"));
        assertThrows(IOException.class, in::available);
    }
}
