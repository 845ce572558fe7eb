package io.layerswarm.libp2p.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.ByteToMessageDecoder;

/**
 * Gathers received TLS records in heap buffers for the JDK engine. The JDK's AES-GCM runs its
 * intrinsics on heap arrays; given the direct buffers Netty reads sockets into, JDK 17 authenticates
 * with a Java GHASH loop instead, which cost the JDK engine about 15% of its throughput (BENCHMARKS.md).
 * One copy per read is the cheaper side of that trade.
 */
final class HeapCumulator implements ByteToMessageDecoder.Cumulator {

    static final HeapCumulator INSTANCE = new HeapCumulator();
    private static final int MIN_CAPACITY = 64 * 1024;

    private HeapCumulator() {
    }

    @Override
    public ByteBuf cumulate(ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) {
        int n = in.readableBytes();
        if (ownedHeap(cumulation) && cumulation.writableBytes() >= n) {
            cumulation.writeBytes(in);
            in.release();
            return cumulation;
        }
        if (!cumulation.isReadable() && ownedHeap(in)) {
            cumulation.release();
            return in;
        }
        ByteBuf out;
        try {
            out = alloc.heapBuffer(Math.max(cumulation.readableBytes() + n, MIN_CAPACITY));
            out.writeBytes(cumulation).writeBytes(in);
        } finally {
            in.release();
        }
        cumulation.release();
        return out;
    }

    private static boolean ownedHeap(ByteBuf b) {
        return b.hasArray() && b.refCnt() == 1 && !b.isReadOnly();
    }
}
