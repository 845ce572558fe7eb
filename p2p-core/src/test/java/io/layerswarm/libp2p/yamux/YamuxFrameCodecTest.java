package io.layerswarm.libp2p.yamux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class YamuxFrameCodecTest {

    private static ByteBuf header(int version, int type, int flags, int stream, long length) {
        ByteBuf b = Unpooled.buffer(12);
        b.writeByte(version).writeByte(type).writeShort(flags).writeInt(stream).writeInt((int) length);
        return b;
    }

    @Test
    void roundTripsEveryFrameType() {
        EmbeddedChannel enc = new EmbeddedChannel(new YamuxFrameEncoder());
        EmbeddedChannel dec = new EmbeddedChannel(new YamuxFrameDecoder(1024));
        YamuxFrame[] frames = {
            YamuxFrame.data(3, YamuxFrame.FLAG_SYN, Unpooled.copiedBuffer("hello", StandardCharsets.UTF_8)),
            YamuxFrame.windowUpdate(5, YamuxFrame.FLAG_ACK | YamuxFrame.FLAG_FIN, 0xFFFF_FFFFL),
            YamuxFrame.ping(YamuxFrame.FLAG_SYN, 77),
            YamuxFrame.goAway(YamuxFrame.GO_AWAY_PROTOCOL_ERROR),
        };
        for (YamuxFrame f : frames) {
            enc.writeOutbound(f);
        }
        ByteBuf wire;
        while ((wire = enc.readOutbound()) != null) {
            // Feed byte by byte to exercise partial headers and payloads.
            while (wire.isReadable()) {
                dec.writeInbound(wire.readRetainedSlice(1));
            }
            wire.release();
        }
        // Fed byte by byte, the payload arrives as one piece per byte; SYN only on the first.
        StringBuilder payload = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            YamuxFrame d = dec.readInbound();
            assertEquals(YamuxFrame.TYPE_DATA, d.type());
            assertEquals(3, d.streamId());
            assertEquals(i == 0, d.has(YamuxFrame.FLAG_SYN));
            assertEquals(1, d.length());
            payload.append(d.data().toString(StandardCharsets.UTF_8));
            d.data().release();
        }
        assertEquals("hello", payload.toString());
        YamuxFrame w = dec.readInbound();
        assertEquals(0xFFFF_FFFFL, w.length());
        assertEquals(YamuxFrame.FLAG_ACK | YamuxFrame.FLAG_FIN, w.flags());
        assertNull(w.data());
        YamuxFrame p = dec.readInbound();
        assertEquals(77, p.length());
        YamuxFrame g = dec.readInbound();
        assertEquals(YamuxFrame.TYPE_GO_AWAY, g.type());
        assertNull(dec.readInbound());
    }

    @Test
    void rejectsBadVersion() {
        assertRejected(header(1, 0, 0, 1, 0), "version");
    }

    @Test
    void rejectsUnknownType() {
        assertRejected(header(0, 4, 0, 1, 0), "type");
    }

    @Test
    void rejectsUnknownFlags() {
        assertRejected(header(0, 1, 0x10, 1, 0), "flags");
    }

    @Test
    void rejectsOversizedDataBeforeBufferingIt() {
        EmbeddedChannel dec = new EmbeddedChannel(new YamuxFrameDecoder(1024));
        DecoderException e = assertThrows(DecoderException.class,
                () -> dec.writeInbound(header(0, 0, 0, 1, 0xFFFF_FFF0L)));
        assertInstanceOf(YamuxProtocolException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("exceeds limit"));
        // Everything after the error is discarded, nothing accumulates.
        for (int i = 0; i < 100; i++) {
            dec.writeInbound(Unpooled.wrappedBuffer(new byte[64 * 1024]));
        }
        assertNull(dec.readInbound());
        dec.finishAndReleaseAll();
    }

    @Test
    void payloadSpanningReadsArrivesAsSlicesWithFinOnTheLastPiece() {
        EmbeddedChannel dec = new EmbeddedChannel(new YamuxFrameDecoder(1024));
        ByteBuf first = header(0, 0, YamuxFrame.FLAG_SYN | YamuxFrame.FLAG_FIN, 7, 100);
        first.writeBytes(new byte[60]);
        ByteBuf second = Unpooled.buffer(40 + 12);
        for (int i = 0; i < 40; i++) {
            second.writeByte(i);
        }
        second.writeBytes(header(0, 2, YamuxFrame.FLAG_SYN, 0, 5));
        dec.writeInbound(first);
        YamuxFrame a = dec.readInbound();
        assertEquals(60, a.length());
        assertEquals(YamuxFrame.FLAG_SYN, a.flags(), "FIN waits for the last piece");
        a.data().release();
        assertNull(dec.readInbound(), "nothing beyond what arrived");
        dec.writeInbound(second);
        YamuxFrame b = dec.readInbound();
        assertEquals(40, b.length());
        assertEquals(YamuxFrame.FLAG_FIN, b.flags());
        assertEquals(39, b.data().getByte(b.data().readerIndex() + 39));
        b.data().release();
        YamuxFrame ping = dec.readInbound();
        assertEquals(YamuxFrame.TYPE_PING, ping.type());
        assertEquals(5, ping.length());
        assertNull(dec.readInbound());
        dec.finishAndReleaseAll();
    }

    @Test
    void emptyDataFrameKeepsItsFlags() {
        EmbeddedChannel dec = new EmbeddedChannel(new YamuxFrameDecoder(1024));
        dec.writeInbound(header(0, 0, YamuxFrame.FLAG_FIN, 9, 0));
        YamuxFrame f = dec.readInbound();
        assertEquals(YamuxFrame.FLAG_FIN, f.flags());
        assertEquals(0, f.length());
        f.data().release();
        dec.finishAndReleaseAll();
    }

    @Test
    void randomBytesEitherDecodeWithinLimitsOrFailClearly() {
        Random rnd = new Random(42);
        for (int round = 0; round < 500; round++) {
            EmbeddedChannel dec = new EmbeddedChannel(new YamuxFrameDecoder(4096));
            byte[] junk = new byte[1 + rnd.nextInt(2000)];
            rnd.nextBytes(junk);
            try {
                dec.writeInbound(Unpooled.wrappedBuffer(junk));
            } catch (DecoderException e) {
                assertInstanceOf(YamuxProtocolException.class, e.getCause());
            }
            Object o;
            while ((o = dec.readInbound()) != null) {
                YamuxFrame f = (YamuxFrame) o;
                assertTrue(f.type() <= YamuxFrame.TYPE_GO_AWAY);
                if (f.data() != null) {
                    assertTrue(f.data().readableBytes() <= 4096);
                    f.data().release();
                }
            }
            dec.finishAndReleaseAll();
        }
    }

    private static void assertRejected(ByteBuf bytes, String word) {
        EmbeddedChannel dec = new EmbeddedChannel(new YamuxFrameDecoder(1024));
        DecoderException e = assertThrows(DecoderException.class, () -> dec.writeInbound(bytes));
        assertInstanceOf(YamuxProtocolException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains(word), e.getCause().getMessage());
        dec.finishAndReleaseAll();
    }
}
