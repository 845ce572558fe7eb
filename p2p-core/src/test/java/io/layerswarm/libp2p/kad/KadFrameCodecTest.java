package io.layerswarm.libp2p.kad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;

class KadFrameCodecTest {

    private static KadMessage findNode(int i) {
        return KadMessage.request(KadMessage.Type.FIND_NODE, new byte[] {0x12, 0x20, (byte) i});
    }

    @Test
    void encodesFramesReadableByStreamFramingAndDecodesByteByByte() {
        EmbeddedChannel ch = new EmbeddedChannel(new KadFrameCodec());
        ch.writeOutbound(findNode(1), findNode(2));
        ByteBuf wire = Unpooled.buffer();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            wire.writeBytes(b);
            b.release();
        }
        byte[] bytes = new byte[wire.readableBytes()];
        wire.readBytes(bytes);
        assertArrayEquals(bytes, concat(KadFraming.frame(KadMessageCodec.encode(findNode(1))),
                KadFraming.frame(KadMessageCodec.encode(findNode(2)))));
        for (byte b : bytes) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        KadMessage first = ch.readInbound();
        KadMessage second = ch.readInbound();
        assertEquals(1, first.key()[2]);
        assertEquals(2, second.key()[2]);
        assertNull(ch.readInbound());
        ch.finishAndReleaseAll();
    }

    @Test
    void oversizedPrefixFailsBeforeBuffering() {
        EmbeddedChannel ch = new EmbeddedChannel(new KadFrameCodec());
        DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(
                Unpooled.wrappedBuffer(new byte[] {(byte) 0x81, (byte) 0x80, (byte) 0x80, 0x02})));
        assertInstanceOf(KadProtocolException.class, e.getCause());
        ch.finishAndReleaseAll();
    }

    @Test
    void garbageBodyAndBadVarintFail() {
        EmbeddedChannel ch = new EmbeddedChannel(new KadFrameCodec());
        // length 2, body = field 1 with an unknown type value 9
        DecoderException e = assertThrows(DecoderException.class,
                () -> ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x02, 0x08, 0x09})));
        assertInstanceOf(KadProtocolException.class, e.getCause());
        EmbeddedChannel ch2 = new EmbeddedChannel(new KadFrameCodec());
        byte[] tooLong = new byte[10];
        java.util.Arrays.fill(tooLong, (byte) 0xff);
        assertThrows(DecoderException.class, () -> ch2.writeInbound(Unpooled.wrappedBuffer(tooLong)));
        ch.finishAndReleaseAll();
        ch2.finishAndReleaseAll();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

}
