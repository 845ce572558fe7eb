package io.layerswarm.libp2p.multiformats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VarintTest {

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    @Test
    void specExamples() {
        // Examples from the multiformats unsigned-varint spec.
        assertArrayEquals(hex("01"), Varint.encode(1));
        assertArrayEquals(hex("7f"), Varint.encode(127));
        assertArrayEquals(hex("8001"), Varint.encode(128));
        assertArrayEquals(hex("ff01"), Varint.encode(255));
        assertArrayEquals(hex("ac02"), Varint.encode(300));
        assertArrayEquals(hex("808001"), Varint.encode(16384));
        assertEquals(300, Varint.decodeExact(hex("ac02")));
        assertEquals(9, Varint.encode(Long.MAX_VALUE).length);
        assertEquals(Long.MAX_VALUE, Varint.decodeExact(Varint.encode(Long.MAX_VALUE)));
    }

    @Test
    void rejectsNonMinimalOverlongTruncated() {
        assertThrows(IllegalArgumentException.class, () -> Varint.decodeExact(hex("8100")));
        assertThrows(IllegalArgumentException.class, () -> Varint.decodeExact(hex("ffffffffffffffffff01")));
        assertThrows(IllegalArgumentException.class, () -> Varint.decodeExact(hex("8080")));
        assertThrows(IllegalArgumentException.class, () -> Varint.decodeExact(new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> Varint.decodeExact(hex("0101")));
        assertThrows(IllegalArgumentException.class, () -> Varint.encode(-1));
    }

    @Test
    void tryReadWaitsForCompleteVarint() {
        ByteBuf buf = Unpooled.buffer();
        buf.writeByte(0xac);
        assertEquals(-1, Varint.tryRead(buf));
        assertEquals(0, buf.readerIndex());
        buf.writeByte(0x02);
        assertEquals(300, Varint.tryRead(buf));
        assertEquals(2, buf.readerIndex());
        ByteBuf bad = Unpooled.wrappedBuffer(hex("ffffffffffffffffffff"));
        assertThrows(IllegalArgumentException.class, () -> Varint.tryRead(bad));
    }

    @Test
    void randomRoundTripAndGarbage() {
        Random r = new Random(42);
        for (int i = 0; i < 10_000; i++) {
            long v = r.nextLong() >>> (1 + r.nextInt(63));
            assertEquals(v, Varint.decodeExact(Varint.encode(v)));
        }
        for (int i = 0; i < 10_000; i++) {
            byte[] g = new byte[r.nextInt(12)];
            r.nextBytes(g);
            try {
                Varint.Decoded d = Varint.decode(g, 0, g.length);
                assertTrue(d.length() <= 9 && d.value() >= 0);
                assertArrayEquals(java.util.Arrays.copyOf(g, d.length()), Varint.encode(d.value()));
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage().contains("varint"));
            }
        }
    }
}
