package io.layerswarm.libp2p.multistream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.libp2p.EmbeddedFeed;
import io.layerswarm.testing.DecoderContract;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.util.concurrent.Future;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzzes multistream-select 1.0, the first bytes any peer sends on a connection and on every stream:
 * the message decoder alone (messages or {@link CorruptedFrameException}, and every message re-encodes to
 * itself) and a whole negotiation in either role (it succeeds, fails with {@link MultistreamException} and
 * closes the channel, or waits for more; nothing escapes the pipeline).
 */
class MultistreamFuzzTest {
    private static final DecoderContract DECODER = DecoderContract.allowing(1L << 20, CorruptedFrameException.class);
    private static final List<String> PROTOCOLS = List.of("/tls/1.0.0", "/noise", "/yamux/1.0.0");

    @FuzzTest
    void messages(byte[] input) {
        EmbeddedChannel ch = new EmbeddedChannel(new MultistreamMessageDecoder());
        DECODER.check(() -> EmbeddedFeed.feed(ch, input)).ifPresent(messages -> {
            for (Object m : messages) {
                String line = (String) m;
                ByteBuf b = Unpooled.buffer();
                MultistreamMessageEncoder.encode(line, b);
                EmbeddedChannel again = new EmbeddedChannel(new MultistreamMessageDecoder());
                again.writeInbound(b);
                assertEquals(line, again.readInbound());
            }
        });
        ch.finishAndReleaseAll();
    }

    /** The first byte picks the role (odd: initiator); the rest is what the peer sends. */
    @FuzzTest
    void negotiation(byte[] input) {
        boolean initiator = input.length > 0 && (input[0] & 1) == 1;
        EmbeddedChannel ch = new EmbeddedChannel();
        Future<String> agreed = initiator
                ? MultistreamSelect.initiate(ch.pipeline(), PROTOCOLS, ProtocolInstaller.NONE)
                : MultistreamSelect.respond(ch.pipeline(), PROTOCOLS, ProtocolInstaller.NONE);
        EmbeddedFeed.feed(ch, input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length));
        EmbeddedFeed.drainOutbound(ch);
        if (agreed.isDone() && !agreed.isSuccess()) {
            assertTrue(agreed.cause() instanceof MultistreamException, () -> "failed with " + agreed.cause());
            assertFalse(ch.isOpen(), "a failed negotiation closes the channel");
        } else if (agreed.isSuccess()) {
            assertTrue(PROTOCOLS.contains(agreed.getNow()));
        }
        ch.finishAndReleaseAll();
    }
}
