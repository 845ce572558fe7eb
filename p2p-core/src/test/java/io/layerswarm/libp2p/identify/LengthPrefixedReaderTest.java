package io.layerswarm.libp2p.identify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class LengthPrefixedReaderTest {

    private static CompletableFuture<byte[]> feed(int max, byte[]... chunks) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        EmbeddedChannel ch = new EmbeddedChannel(new LengthPrefixedReader(max, f));
        for (byte[] c : chunks) {
            if (ch.isOpen()) {
                ch.writeInbound(Unpooled.wrappedBuffer(c));
            }
        }
        if (ch.isOpen()) {
            ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
        ch.finishAndReleaseAll();
        return f;
    }

    @Test
    void readsOneMessageAcrossChunks() throws Exception {
        byte[] got = feed(100, new byte[] {3, 'a'}, new byte[] {'b', 'c', 'x'}).get();
        assertArrayEquals(new byte[] {'a', 'b', 'c'}, got);
    }

    @Test
    void oversizedPrefixFailsWithoutBuffering() {
        CompletableFuture<byte[]> f = feed(100, new byte[] {(byte) 0xFF, (byte) 0xFF, 0x7F});
        ExecutionException e = assertThrows(ExecutionException.class, f::get);
        assertTrue(e.getCause().getMessage().contains("too large"), e.getCause().getMessage());
    }

    @Test
    void tooManyBytesFails() {
        assertThrows(ExecutionException.class, () -> feed(100, new byte[1000]).get());
    }

    @Test
    void truncatedMessageFailsAtEof() {
        ExecutionException e = assertThrows(ExecutionException.class, () -> feed(100, new byte[] {50, 1, 2}).get());
        assertTrue(e.getCause().getMessage().contains("before a complete message"));
    }

    @Test
    void malformedVarintFails() {
        byte[] bad = new byte[12];
        java.util.Arrays.fill(bad, (byte) 0x80);
        assertThrows(ExecutionException.class, () -> feed(1 << 20, bad).get());
    }

    @Test
    void randomBytesNeverHang() {
        Random rnd = new Random(4);
        for (int i = 0; i < 300; i++) {
            byte[] junk = new byte[rnd.nextInt(200)];
            rnd.nextBytes(junk);
            CompletableFuture<byte[]> f = feed(64, junk);
            assertTrue(f.isDone());
            if (!f.isCompletedExceptionally()) {
                assertFalse(f.join().length > 64);
            }
        }
    }
}
