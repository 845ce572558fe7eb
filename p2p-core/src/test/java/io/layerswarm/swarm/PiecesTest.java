package io.layerswarm.swarm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PiecesTest {

    @Test
    void layoutCutsTheLastPieceShort() {
        PieceLayout l = new PieceLayout(100_000, 32 * 1024);
        assertEquals(4, l.count());
        assertEquals(32 * 1024, l.length(0));
        assertEquals(100_000 - 3 * 32 * 1024, l.length(3));
        assertEquals(0, new PieceLayout(0, 32 * 1024).count());
        assertThrows(IndexOutOfBoundsException.class, () -> l.length(4));
        assertThrows(IllegalArgumentException.class, () -> new PieceLayout(10, 1));
        assertThrows(IllegalArgumentException.class, () -> new PieceLayout(Long.MAX_VALUE, PieceLayout.MIN_PIECE_SIZE));
    }

    @Test
    void linkSpeedChoosesPieceSize() {
        assertEquals(256 * 1024, PieceLayout.forLink(1 << 30, 100_000).pieceSize());
        assertEquals(8 * 1024 * 1024, PieceLayout.forLink(1 << 30, 50L * 1024 * 1024).pieceSize());
        assertEquals(16 * 1024 * 1024, PieceLayout.forLink(1 << 30, 10L << 30).pieceSize());
        assertEquals(PieceLayout.DEFAULT_PIECE_SIZE, PieceLayout.forLink(1 << 30, 0).pieceSize());
    }

    @Test
    void bitfieldRoundTripsAndRejectsGarbage() {
        Bitfield b = Bitfield.empty(11).with(0).with(7).with(10);
        assertArrayEquals(new byte[] {(byte) 0x81, 0x20}, b.toBytes());
        assertEquals(b, Bitfield.fromBytes(11, b.toBytes()));
        assertThrows(IllegalArgumentException.class, () -> Bitfield.fromBytes(11, new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> Bitfield.fromBytes(11, new byte[] {0, 0x10}));
        assertThrows(IndexOutOfBoundsException.class, () -> b.with(11));
        assertTrue(Bitfield.full(9).isComplete());
        BitSet bits = new BitSet();
        bits.set(0);
        bits.set(10);
        Bitfield fromSet = Bitfield.of(11, bits);
        assertEquals(b.with(7), fromSet.with(7));
        bits.set(3);
        assertFalse(fromSet.has(3), "of() copies");
        BitSet back = fromSet.toBitSet();
        back.set(5);
        assertFalse(fromSet.has(5), "toBitSet() copies");
        bits.set(11);
        assertThrows(IllegalArgumentException.class, () -> Bitfield.of(11, bits));
    }

    @Test
    void pieceHashesVerifyPiecesAndRefuseWrongContent() throws IOException {
        byte[] blob = TestSources.realBlob();
        Digest d = Digest.sha256(blob);
        PieceLayout l = new PieceLayout(blob.length, 64 * 1024);
        PieceHashes h = PieceHashes.compute(d, l, new ByteArrayInputStream(blob));
        assertTrue(h.verify(1, ByteBuffer.wrap(blob, 64 * 1024, 64 * 1024).slice()));
        assertFalse(h.verify(2, ByteBuffer.wrap(blob, 64 * 1024, 64 * 1024).slice()));
        assertFalse(h.verify(1, ByteBuffer.wrap(blob, 64 * 1024, 1000).slice()));
        byte[] tampered = blob.clone();
        tampered[0] ^= 1;
        assertThrows(IOException.class, () -> PieceHashes.compute(d, l, new ByteArrayInputStream(tampered)));
        assertThrows(IllegalArgumentException.class, () -> new PieceHashes(d, l, new byte[31]));
        assertEquals(h, new PieceHashes(d, l, h.toBytes()));
    }

    @Test
    void pieceHashesOfPiecesLargerThanOneReadVerifyStreams() throws IOException {
        byte[] blob = new byte[700_001];
        new Random(3).nextBytes(blob);
        Digest d = Digest.sha256(blob);
        PieceLayout l = new PieceLayout(blob.length, 256 * 1024);
        PieceHashes h = PieceHashes.compute(d, l, new ByteArrayInputStream(blob));
        for (int i = 0; i < l.count(); i++) {
            assertTrue(h.verify(i, ByteBuffer.wrap(blob, (int) l.offset(i), l.length(i)).slice()), "piece " + i);
        }
        ByteArrayInputStream in = new ByteArrayInputStream(blob, (int) l.offset(1), blob.length);
        assertTrue(h.verify(1, in));
        assertEquals(blob.length - l.offset(2), in.available(), "reads exactly the piece");
        assertTrue(h.verify(2, in));
        assertFalse(h.verify(0, new ByteArrayInputStream(blob, (int) l.offset(1), l.length(0))), "other piece");
        assertFalse(h.verify(0, new ByteArrayInputStream(blob, 0, l.length(0) - 1)), "short stream");
        byte[] tampered = blob.clone();
        tampered[l.length(0) - 1] ^= 1;
        assertFalse(h.verify(0, new ByteArrayInputStream(tampered)), "last byte of the piece changed");
    }

    @Test
    void rarestFirstPrefersRarePiecesAndInOrderTheFirst() {
        BitSet c = new BitSet();
        c.set(2);
        c.set(5);
        c.set(9);
        int[] avail = {0, 0, 3, 0, 0, 1, 0, 0, 0, 2};
        assertEquals(5, PiecePicker.rarestFirst().pick(c, avail, new Random(1)));
        assertEquals(2, PiecePicker.inOrder().pick(c, avail, new Random(1)));
        int[] tie = {0, 0, 1, 0, 0, 1, 0, 0, 0, 1};
        BitSet seen = new BitSet();
        Random r = new Random(3);
        for (int i = 0; i < 100; i++) {
            seen.set(PiecePicker.rarestFirst().pick(c, tie, r));
        }
        assertEquals(c, seen, "ties are broken at random so downloaders spread");
    }

    @Test
    void blacklistExpires() {
        long[] now = {0};
        Blacklist b = new Blacklist(() -> now[0]);
        b.ban("p", 100);
        assertTrue(b.isBanned("p"));
        now[0] = 99;
        assertTrue(b.isBanned("p"));
        now[0] = 100;
        assertFalse(b.isBanned("p"));
        assertEquals(0, b.size());
    }
}
