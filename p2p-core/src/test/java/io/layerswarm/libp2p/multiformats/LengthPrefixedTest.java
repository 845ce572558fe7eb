package io.layerswarm.libp2p.multiformats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LengthPrefixedTest {
    static final class Malformed extends IOException {
        private static final long serialVersionUID = 1L;

        Malformed(String m) {
            super(m);
        }
    }

    static byte[] read(byte[] in, int max) throws IOException {
        return LengthPrefixed.read(new ByteArrayInputStream(in), max, Malformed::new);
    }

    @Test
    void readsFramesAndSeesACleanEnd() throws IOException {
        InputStream in = new ByteArrayInputStream(new byte[] {3, 'a', 'b', 'c', 0});
        assertArrayEquals(new byte[] {'a', 'b', 'c'}, LengthPrefixed.read(in, 10, Malformed::new));
        assertArrayEquals(new byte[0], LengthPrefixed.read(in, 10, Malformed::new));
        assertNull(LengthPrefixed.read(in, 10, Malformed::new));
    }

    @Test
    void rejectsBadLengthsBeforeAllocating() {
        assertThrows(Malformed.class, () -> read(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07}, 1024));
        assertThrows(Malformed.class, () -> read(new byte[] {11}, 10));
        assertThrows(Malformed.class, () -> read(new byte[] {(byte) 0x81, 0x00}, 10)); // non-minimal
        byte[] overlong = new byte[12];
        java.util.Arrays.fill(overlong, (byte) 0x80);
        assertThrows(Malformed.class, () -> read(overlong, 10));
        assertThrows(EOFException.class, () -> read(new byte[] {(byte) 0x85}, 10));
        assertThrows(EOFException.class, () -> read(new byte[] {5, 1, 2}, 10));
    }

    @Test
    void garbageOnlyEverFailsAsIo() {
        Random r = new Random(11);
        for (int i = 0; i < 3000; i++) {
            byte[] junk = new byte[r.nextInt(40)];
            r.nextBytes(junk);
            try {
                byte[] body = read(junk, 16);
                assertTrue(body == null || body.length <= 16);
            } catch (IOException expected) {
                // Malformed or EOFException: the only failures allowed
            }
        }
    }

    @Test
    void nettyBuffersUseTheSameFramesAndWaitForWholeOnes() throws IOException {
        io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.buffer();
        try {
            LengthPrefixed.write(new byte[] {'a', 'b', 'c'}, buf);
            byte[] streamed = LengthPrefixed.frame(new byte[] {'a', 'b', 'c'});
            assertArrayEquals(streamed, io.netty.buffer.ByteBufUtil.getBytes(buf), "one wire format");
            io.netty.buffer.ByteBuf part = io.netty.buffer.Unpooled.wrappedBuffer(streamed, 0, 2);
            assertNull(LengthPrefixed.tryRead(part, 10, Malformed::new), "incomplete");
            assertTrue(part.readerIndex() == 0, "nothing consumed from an incomplete frame");
            assertArrayEquals(new byte[] {'a', 'b', 'c'}, LengthPrefixed.tryRead(buf, 10, Malformed::new));
            assertThrows(Malformed.class, () -> LengthPrefixed.tryRead(io.netty.buffer.Unpooled.wrappedBuffer(
                    new byte[] {11}), 10, Malformed::new));
            Random r = new Random(12);
            for (int i = 0; i < 3000; i++) {
                byte[] junk = new byte[r.nextInt(40)];
                r.nextBytes(junk);
                try {
                    byte[] body = LengthPrefixed.tryRead(io.netty.buffer.Unpooled.wrappedBuffer(junk), 16, Malformed::new);
                    assertTrue(body == null || body.length <= 16);
                } catch (Malformed expected) {
                    // the only failure allowed
                }
            }
        } finally {
            buf.release();
        }
    }
}
