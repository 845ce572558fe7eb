package io.layerswarm.libp2p.identify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.testing.DecoderContract;

/**
 * Fuzzes {@code /ipfs/id/1.0.0} (and push) messages: {@link IdentifyCodec#decode} returns the peer's
 * info or throws {@link IllegalArgumentException}; the info stays within the entry limits and encodes back
 * to a message that decodes to equal info.
 */
class IdentifyFuzzTest {
    private static final DecoderContract CONTRACT = DecoderContract.allowing(4L << 20, IllegalArgumentException.class);

    @FuzzTest
    void message(byte[] input) {
        CONTRACT.check(() -> IdentifyCodec.decode(input)).ifPresent(info -> {
            assertTrue(info.listenAddrs().size() <= IdentifyCodec.MAX_ENTRIES);
            assertTrue(info.protocols().size() <= IdentifyCodec.MAX_ENTRIES);
            assertEquals(info, IdentifyCodec.decode(IdentifyCodec.encode(info)));
        });
    }
}
