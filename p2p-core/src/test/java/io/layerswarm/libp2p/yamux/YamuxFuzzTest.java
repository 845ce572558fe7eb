package io.layerswarm.libp2p.yamux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.libp2p.EmbeddedFeed;
import io.layerswarm.testing.DecoderContract;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzzes Yamux, which carries every stream of a connection: the frame decoder alone (frames or
 * {@link YamuxProtocolException}; data pieces never exceed the limit and add up to their header's length;
 * other frames re-encode to equal frames) and a whole listening session fed garbage (it may go away with
 * a protocol error, never with an internal one, which would mean an unexpected exception).
 */
class YamuxFuzzTest {
    private static final int MAX_DATA = 64 * 1024;
    private static final DecoderContract DECODER = DecoderContract.allowing(1L << 20, YamuxProtocolException.class);

    @FuzzTest
    void frames(byte[] input) {
        EmbeddedChannel ch = new EmbeddedChannel(new YamuxFrameDecoder(MAX_DATA));
        List<YamuxFrame> frames = new ArrayList<>();
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                YamuxFrame f = (YamuxFrame) msg;
                frames.add(new YamuxFrame(f.type(), f.flags(), f.streamId(), f.length(), null, f.charge()));
                if (f.data() != null) {
                    assertEquals(f.length(), f.data().readableBytes(), "a data piece's length is its payload");
                    f.data().release();
                }
            }
        });
        DECODER.check(() -> EmbeddedFeed.feedUnwrapped(ch, input));
        long pending = 0;
        for (YamuxFrame f : frames) {
            if (f.type() == YamuxFrame.TYPE_DATA) {
                if (f.charge() > 0) {
                    assertEquals(0, pending, "a new data frame starts only after the previous one's payload");
                    assertTrue(f.charge() <= MAX_DATA);
                    pending = f.charge();
                }
                pending -= f.length();
                assertTrue(pending >= 0, "pieces exceed their header's length");
            } else {
                ByteBuf b = Unpooled.buffer();
                YamuxFrameEncoder.writeHeader(f, b);
                EmbeddedChannel again = new EmbeddedChannel(new YamuxFrameDecoder(MAX_DATA));
                again.writeInbound(b);
                YamuxFrame g = again.readInbound();
                assertEquals(List.of(f.type(), f.flags(), f.streamId(), f.length()),
                        List.of(g.type(), g.flags(), g.streamId(), g.length()));
            }
        }
        ch.finishAndReleaseAll();
    }

    @FuzzTest
    void session(byte[] input) {
        // streams the garbage opens echo, so that the session also has to send on them
        EmbeddedChannel ch = new EmbeddedChannel(new YamuxSession(false, YamuxConfig.defaults(), YamuxTestHandlers.ECHO));
        EmbeddedFeed.feed(ch, input);
        ByteBuf sent = EmbeddedFeed.outboundBytes(ch);
        EmbeddedChannel reader = new EmbeddedChannel(new YamuxFrameDecoder(Integer.MAX_VALUE));
        reader.writeInbound(sent);
        for (Object m; (m = reader.readInbound()) != null; ) {
            YamuxFrame f = (YamuxFrame) m;
            if (f.type() == YamuxFrame.TYPE_GO_AWAY) {
                assertNotEquals(YamuxFrame.GO_AWAY_INTERNAL_ERROR, (int) f.length(),
                        "the session hit an unexpected exception (go-away: internal error)");
            }
            ReferenceCountUtil.release(f.data());
        }
        ch.finishAndReleaseAll();
        reader.finishAndReleaseAll();
    }
}
