package io.layerswarm.libp2p.yamux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/** A raw socket feeds a Yamux listener garbage: it must answer go-away and disconnect. */
class YamuxGarbageTest {

    private static byte[] header(int version, int type, int flags, int stream, long length) {
        return ByteBuffer.allocate(12).put((byte) version).put((byte) type).putShort((short) flags)
                .putInt(stream).putInt((int) length).array();
    }

    /** Largest number of bytes the listener held in buffers while it handled the garbage. */
    private static long peakBufferedBytes;

    /**
     * Sends bytes (ignoring a reset connection), then returns everything the listener sent until EOF.
     * The listener allocates from its own instrumented allocator, sampled meanwhile, so tests can
     * assert the garbage was not buffered.
     */
    private static byte[] exchange(byte[]... chunks) throws Exception {
        UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false);
        AtomicLong peak = new AtomicLong();
        AtomicBoolean sampling = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (sampling.get()) {
                peak.accumulateAndGet(alloc.metric().usedHeapMemory() + alloc.metric().usedDirectMemory(), Math::max);
                Thread.onSpinWait();
            }
        });
        sampler.start();
        try {
            return exchangeUnsampled(alloc, chunks);
        } finally {
            sampling.set(false);
            sampler.join();
            peakBufferedBytes = peak.get();
        }
    }

    private static byte[] exchangeUnsampled(UnpooledByteBufAllocator alloc, byte[]... chunks) throws Exception {
        try (YamuxTcpPair pair = new YamuxTcpPair(YamuxConfig.defaults(), YamuxTestHandlers.ECHO,
                YamuxConfig.defaults(), YamuxTestHandlers.REJECT, alloc);
             Socket s = new Socket("127.0.0.1", pair.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            try {
                for (byte[] c : chunks) {
                    out.write(c);
                }
                out.flush();
            } catch (IOException closedEarly) {
                // The listener may hang up while we are still writing; that is the point.
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            int n;
            try {
                while ((n = in.read(buf)) >= 0) {
                    got.write(buf, 0, n);
                }
            } catch (IOException reset) {
                // A reset after go-away is also a disconnect.
            }
            YamuxSessionTest.waitFor(() -> pair.serverSession.streamCount() == 0);
            return got.toByteArray();
        }
    }

    /** The listener's own first frame is its RTT ping; the go-away must follow with the given code. */
    private static void assertGoAway(byte[] got, int code) {
        ByteBuffer b = ByteBuffer.wrap(got);
        boolean found = false;
        while (b.remaining() >= 12) {
            int version = b.get();
            int type = b.get();
            b.getShort();
            b.getInt();
            int length = b.getInt();
            assertEquals(0, version);
            if (type == YamuxFrame.TYPE_GO_AWAY) {
                assertEquals(code, length);
                found = true;
            }
        }
        assertTrue(found, "go-away expected in " + got.length + " bytes");
    }

    @Test
    void badVersion() throws Exception {
        assertGoAway(exchange(header(7, 0, 0, 1, 0)), YamuxFrame.GO_AWAY_PROTOCOL_ERROR);
    }

    @Test
    void unknownType() throws Exception {
        assertGoAway(exchange(header(0, 9, 0, 1, 0)), YamuxFrame.GO_AWAY_PROTOCOL_ERROR);
    }

    @Test
    void oversizedLengthThenLotsOfBytes() throws Exception {
        byte[] junk = new byte[1 << 20];
        byte[][] chunks = new byte[65][];
        chunks[0] = header(0, 0, YamuxFrame.FLAG_SYN, 1, 0xFFFF_FFF0L);
        for (int i = 1; i < chunks.length; i++) {
            chunks[i] = junk;
        }
        assertGoAway(exchange(chunks), YamuxFrame.GO_AWAY_PROTOCOL_ERROR);
        // 64 MiB of junk behind a header claiming 4 GiB: the listener must not have buffered it.
        assertTrue(peakBufferedBytes < 2L << 20, "peak buffered " + peakBufferedBytes);
    }

    @Test
    void dataBeyondTheWindow() throws Exception {
        int len = YamuxConfig.SPEC_INITIAL_WINDOW + 1;
        byte[] payload = new byte[len];
        assertGoAway(exchange(header(0, 1, YamuxFrame.FLAG_SYN, 1, 0), header(0, 0, 0, 1, len), payload),
                YamuxFrame.GO_AWAY_PROTOCOL_ERROR);
        // The frame is charged whole on its first piece, so it is refused before its payload is buffered.
        assertTrue(peakBufferedBytes < 2L << 20, "peak buffered " + peakBufferedBytes);
    }

    @Test
    void streamIdWithOurParity() throws Exception {
        assertGoAway(exchange(header(0, 1, YamuxFrame.FLAG_SYN, 2, 0)), YamuxFrame.GO_AWAY_PROTOCOL_ERROR);
    }

    @Test
    void duplicateSyn() throws Exception {
        assertGoAway(exchange(header(0, 1, YamuxFrame.FLAG_SYN, 1, 0), header(0, 1, YamuxFrame.FLAG_SYN, 1, 0)),
                YamuxFrame.GO_AWAY_PROTOCOL_ERROR);
    }

    @Test
    void randomBytes() throws Exception {
        Random rnd = new Random(3);
        for (int i = 0; i < 5; i++) {
            byte[] junk = new byte[256 * 1024];
            rnd.nextBytes(junk);
            junk[0] = 1; // make sure the very first header is already invalid
            assertGoAway(exchange(junk), YamuxFrame.GO_AWAY_PROTOCOL_ERROR);
        }
    }

    @Test
    void goAwayOnAStream() throws Exception {
        assertGoAway(exchange(header(0, 3, 0, 5, 0)), YamuxFrame.GO_AWAY_PROTOCOL_ERROR);
    }

    @Test
    void pingOnAStream() throws Exception {
        assertGoAway(exchange(header(0, 2, YamuxFrame.FLAG_SYN, 5, 0)), YamuxFrame.GO_AWAY_PROTOCOL_ERROR);
    }
}
