package io.layerswarm.libp2p.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HeapCumulatorTest {

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    @Test
    void directReadsEndUpInOneHeapBufferInOrderAndInputsAreReleased() {
        Random rnd = new Random(5);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        List<ByteBuf> inputs = new ArrayList<>();
        ByteBuf cumulation = Unpooled.EMPTY_BUFFER;
        for (int i = 0; i < 40; i++) {
            byte[] chunk = new byte[1 + rnd.nextInt(20_000)];
            rnd.nextBytes(chunk);
            expected.writeBytes(chunk);
            ByteBuf in = alloc.directBuffer(chunk.length).writeBytes(chunk);
            inputs.add(in);
            cumulation = HeapCumulator.INSTANCE.cumulate(alloc, cumulation, in);
            assertTrue(cumulation.hasArray(), "cumulation must be heap, was " + cumulation);
            if (i % 7 == 6) {
                // The decoder consumes a prefix now and then; what is left must survive.
                byte[] head = new byte[cumulation.readableBytes() / 2];
                cumulation.readBytes(head);
                byte[] all = expected.toByteArray();
                expected.reset();
                expected.write(all, head.length, all.length - head.length);
            }
        }
        assertArrayEquals(expected.toByteArray(), ByteBufUtil.getBytes(cumulation));
        for (ByteBuf in : inputs) {
            assertEquals(0, in.refCnt(), "every input released");
        }
        cumulation.release();
    }

    @Test
    void ownedHeapInputIsTakenAsIsWhenNothingIsPending() {
        ByteBuf in = alloc.heapBuffer(16).writeBytes(new byte[] {1, 2, 3});
        ByteBuf out = HeapCumulator.INSTANCE.cumulate(alloc, Unpooled.EMPTY_BUFFER, in);
        assertTrue(out == in, "no copy for an owned heap buffer");
        out.release();
    }
}
