package io.layerswarm.libp2p.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/**
 * Data queued for a blocking reader are pooled buffers: a reader that goes away (its stream closed or
 * reset, its input closed) must hand them back, and data arriving after that are released at once.
 */
class BlockingStreamAdapterTest {
    private static ByteBuf pooled(int n) {
        return PooledByteBufAllocator.DEFAULT.directBuffer(n).writeZero(n);
    }

    @Test
    void discardingTheReaderReleasesWhatItLeftUnreadAndWhatArrivesLater() {
        BlockingStreamAdapter adapter = new BlockingStreamAdapter();
        EmbeddedChannel ch = new EmbeddedChannel(adapter);
        ByteBuf first = pooled(100);
        ByteBuf second = pooled(200);
        ch.writeInbound(first, second);
        assertEquals(1, first.refCnt(), "queued for the reader, not yet released");
        assertEquals(1, second.refCnt());

        adapter.discardUnread();
        assertEquals(0, first.refCnt());
        assertEquals(0, second.refCnt());

        ByteBuf late = pooled(50);
        ch.writeInbound(late);
        assertEquals(0, late.refCnt(), "data for a reader that is gone are released on arrival");
        ch.finishAndReleaseAll();
    }

    @Test
    void closingTheInputStreamReleasesWhatIsQueued() throws Exception {
        BlockingStreamAdapter adapter = new BlockingStreamAdapter();
        EmbeddedChannel ch = new EmbeddedChannel(adapter);
        ByteBuf queued = pooled(64);
        ch.writeInbound(queued);
        adapter.inputStream().close();
        assertEquals(0, queued.refCnt());
        ch.finishAndReleaseAll();
    }
}
