package io.layerswarm.libp2p.kad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KadMessageCodecTest {

    private static final byte[] PEER = HexFormat.of().parseHex("1220" + "ab".repeat(32));

    private static KadMessage sample() {
        KadPeer p = new KadPeer(PEER, List.of(new byte[] {4, 127, 0, 0, 1, 6, 0x10, 0x00}), KadPeer.Connection.CONNECTED);
        return new KadMessage(KadMessage.Type.GET_PROVIDERS, new byte[] {0x12, 0x20, 1, 2, 3}, null,
                List.of(p), List.of(p, KadPeer.of(new byte[] {0, 1, 9})));
    }

    @Test
    void roundTripsThroughFrame() throws IOException {
        KadMessage m = sample();
        KadMessage back = KadFraming.read(new ByteArrayInputStream(KadFraming.frame(KadMessageCodec.encode(m))));
        assertEquals(m.type(), back.type());
        assertArrayEquals(m.key(), back.key());
        assertEquals(m.closerPeers(), back.closerPeers());
        assertEquals(m.providerPeers(), back.providerPeers());
        assertArrayEquals(m.closerPeers().get(0).addrs().get(0), back.closerPeers().get(0).addrs().get(0));
        assertEquals(KadPeer.Connection.CONNECTED, back.closerPeers().get(0).connection());
    }

    @Test
    void wireFormatMatchesSpecFieldNumbers() throws IOException {
        // type=FIND_NODE(4) as field 1, key as field 2 — hand-assembled as another implementation would.
        byte[] body = {0x08, 0x04, 0x12, 0x03, 1, 2, 3, 0x42, 0x04, 0x0a, 0x02, 7, 8};
        KadMessage m = KadMessageCodec.decode(body);
        assertEquals(KadMessage.Type.FIND_NODE, m.type());
        assertArrayEquals(new byte[] {1, 2, 3}, m.key());
        assertArrayEquals(new byte[] {7, 8}, m.closerPeers().get(0).id());
        assertArrayEquals(body, KadMessageCodec.encode(m));
    }

    @Test
    void decodesRecordOfValueMessages() throws IOException {
        KadMessage m = new KadMessage(KadMessage.Type.PUT_VALUE, new byte[] {1}, new KadRecord(new byte[] {1},
                new byte[] {2, 3}, "2026-01-01T00:00:00Z"), null, null);
        KadMessage back = KadMessageCodec.decode(KadMessageCodec.encode(m));
        assertArrayEquals(new byte[] {2, 3}, back.record().value());
        assertEquals("2026-01-01T00:00:00Z", back.record().timeReceived());
    }

    @Test
    void cleanEndOfStreamIsNull() throws IOException {
        assertNull(KadFraming.read(InputStream.nullInputStream()));
    }

    @Test
    void rejectsOversizedLengthPrefixWithoutAllocating() {
        // Claims 2^32 bytes but carries none: must fail on the prefix, not try to read/allocate.
        byte[] prefix = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x10};
        KadProtocolException e = assertThrows(KadProtocolException.class,
                () -> KadFraming.read(new ByteArrayInputStream(prefix)));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
        byte[] justOver = KadFraming.frame(new byte[0]);
        assertEquals(1, justOver.length);
        byte[] fourMiBPlusOne = {(byte) 0x81, (byte) 0x80, (byte) 0x80, 0x02};
        assertThrows(KadProtocolException.class, () -> KadFraming.read(new ByteArrayInputStream(fourMiBPlusOne)));
    }

    @Test
    void rejectsOverlongVarintAndNonMinimalPrefix() {
        byte[] overlong = new byte[12];
        java.util.Arrays.fill(overlong, (byte) 0x80);
        assertThrows(KadProtocolException.class, () -> KadFraming.read(new ByteArrayInputStream(overlong)));
        byte[] nonMinimal = {(byte) 0x81, 0x00, 0x00};
        assertThrows(KadProtocolException.class, () -> KadFraming.read(new ByteArrayInputStream(nonMinimal)));
    }

    @Test
    void rejectsTruncatedFrames() {
        byte[] framed = KadFraming.frame(KadMessageCodec.encode(sample()));
        for (int cut = 1; cut < framed.length; cut++) {
            byte[] part = java.util.Arrays.copyOf(framed, cut);
            assertThrows(IOException.class, () -> KadFraming.read(new ByteArrayInputStream(part)), "cut " + cut);
        }
        assertThrows(EOFException.class, () -> KadFraming.read(new ByteArrayInputStream(new byte[] {(byte) 0x85})));
    }

    @Test
    void rejectsUnknownTypeAndBadPeerIds() {
        assertThrows(KadProtocolException.class, () -> KadMessageCodec.decode(new byte[] {0x08, 0x09}));
        // closerPeers entry with an empty id
        assertThrows(KadProtocolException.class, () -> KadMessageCodec.decode(new byte[] {0x08, 0x04, 0x42, 0x00}));
        byte[] bigId = new byte[300];
        KadMessage m = new KadMessage(KadMessage.Type.FIND_NODE, new byte[0], null, List.of(KadPeer.of(bigId)), null);
        assertThrows(KadProtocolException.class, () -> KadMessageCodec.decode(KadMessageCodec.encode(m)));
    }

    @Test
    void randomGarbageFailsCleanlyOrDecodes() {
        Random r = new Random(1);
        int rejected = 0;
        for (int i = 0; i < 5000; i++) {
            byte[] junk = new byte[r.nextInt(200)];
            r.nextBytes(junk);
            try {
                KadFraming.read(new ByteArrayInputStream(junk));
            } catch (KadProtocolException | EOFException e) {
                assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
                rejected++;
            } catch (IOException e) {
                throw new AssertionError("unexpected exception type " + e, e);
            }
        }
        assertTrue(rejected > 4000, "most random garbage must be rejected, rejected " + rejected);
    }

    @Test
    void refusesToEncodeMoreThanTheLimit() {
        KadMessage huge = new KadMessage(KadMessage.Type.PUT_VALUE, new byte[0],
                new KadRecord(new byte[0], new byte[KadMessageCodec.MAX_MESSAGE_SIZE], ""), null, null);
        assertThrows(IllegalArgumentException.class, () -> KadMessageCodec.encode(huge));
        assertThrows(KadProtocolException.class, () -> KadMessageCodec.decode(new byte[KadMessageCodec.MAX_MESSAGE_SIZE + 1]));
    }
}
