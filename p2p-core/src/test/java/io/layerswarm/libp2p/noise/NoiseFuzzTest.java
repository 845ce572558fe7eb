package io.layerswarm.libp2p.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.libp2p.EmbeddedFeed;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.testing.DecoderContract;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import java.util.Arrays;

/**
 * Fuzzes the Noise handshake: the libp2p handshake payload a peer sends inside message 2 or 3 (parsed and
 * verified, or rejected with {@link NoiseException}), and a whole handshake fed garbage in either role (it
 * fails with a {@link NoiseException} and closes the channel, or waits; nothing escapes the pipeline).
 */
class NoiseFuzzTest {
    /** The remote Noise static key the seed payloads were signed for. */
    static final byte[] REMOTE_STATIC = filled(32, (byte) 0x42);
    private static final DecoderContract PAYLOAD = DecoderContract.allowing(1L << 20, NoiseException.class);
    private static final NoiseSecurity LOCAL = new NoiseSecurity(Ed25519PrivateKey.generate());

    @FuzzTest
    void handshakePayload(byte[] input) {
        PAYLOAD.check(() -> HandshakePayloads.verify(input, REMOTE_STATIC)).ifPresent(v -> {
            assertEquals(PeerId.fromPublicKey(v.identityKey()), v.peerId());
            assertTrue(v.streamMuxers().size() <= HandshakePayloads.MAX_MUXERS);
        });
    }

    /** The first byte picks the role (odd: initiator); the rest is what the peer sends. */
    @FuzzTest
    void handshake(byte[] input) {
        boolean initiator = input.length > 0 && (input[0] & 1) == 1;
        EmbeddedChannel ch = new EmbeddedChannel();
        Future<NoiseSession> session = LOCAL.install(ch.pipeline(), initiator, null, null);
        EmbeddedFeed.feed(ch, input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length));
        EmbeddedFeed.drainOutbound(ch);
        if (session.isDone()) {
            // garbage cannot complete a handshake: that takes the peer's private keys
            assertFalse(session.isSuccess(), "handshake completed on garbage");
            assertTrue(session.cause() instanceof NoiseException, () -> "failed with " + session.cause());
            assertFalse(ch.isOpen(), "a failed handshake closes the channel");
        }
        ch.finishAndReleaseAll();
    }

    private static byte[] filled(int n, byte b) {
        byte[] a = new byte[n];
        Arrays.fill(a, b);
        return a;
    }
}
