package io.layerswarm.libp2p.multiformats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.testing.DecoderContract;
import java.nio.charset.StandardCharsets;

/**
 * Fuzzes the multiformats that arrive from peers (identify's listen addresses, Kademlia peer records,
 * provider keys) and from operators (bootstrap addresses, CIDs on the command line). Every parser returns
 * a value or throws {@link IllegalArgumentException}; what it returns encodes back to an equal value.
 */
class MultiformatsFuzzTest {
    private static final DecoderContract CONTRACT = DecoderContract.allowing(1L << 20, IllegalArgumentException.class);

    @FuzzTest
    void multiaddrBytes(byte[] input) {
        CONTRACT.check(() -> Multiaddr.decode(input)).ifPresent(m -> {
            assertArrayEquals(input, m.bytes());
            assertEquals(m, Multiaddr.parse(m.toString()));
        });
    }

    @FuzzTest
    void multiaddrText(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        CONTRACT.check(() -> Multiaddr.parse(text)).ifPresent(m -> {
            assertEquals(m, Multiaddr.decode(m.bytes()));
            assertEquals(m, Multiaddr.parse(m.toString()));
        });
    }

    @FuzzTest
    void cidAndMultihash(byte[] input) {
        CONTRACT.check(() -> Multihash.decode(input)).ifPresent(h -> assertEquals(h, Multihash.decode(h.bytes())));
        CONTRACT.check(() -> Cid.decode(input)).ifPresent(c -> assertEquals(c, Cid.decode(c.bytes())));
        String text = new String(input, StandardCharsets.UTF_8);
        CONTRACT.check(() -> Cid.parse(text)).ifPresent(c -> assertEquals(c, Cid.parse(c.toString())));
        CONTRACT.check(() -> Multibase.decode(text));
    }

    @FuzzTest
    void peerId(byte[] input) {
        CONTRACT.check(() -> PeerId.fromBytes(input)).ifPresent(p -> assertEquals(p, PeerId.parse(p.toBase58())));
        String text = new String(input, StandardCharsets.UTF_8);
        CONTRACT.check(() -> PeerId.parse(text)).ifPresent(p -> assertEquals(p, PeerId.fromBytes(p.bytes())));
    }
}
