package io.layerswarm.libp2p.multiformats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MultibaseTest {

    private static final byte[] HELLO = "hello world".getBytes(StandardCharsets.UTF_8);

    @Test
    void knownEncodings() {
        // "hello world" examples from the multibase spec's test vectors.
        assertEquals("zStV1DL6CwTryKyV", Multibase.encode(Multibase.Base.BASE58BTC, HELLO));
        assertEquals("bnbswy3dpeb3w64tmmq", Multibase.encode(Multibase.Base.BASE32, HELLO));
        assertEquals("BNBSWY3DPEB3W64TMMQ", Multibase.encode(Multibase.Base.BASE32_UPPER, HELLO));
        assertEquals("f68656c6c6f20776f726c64", Multibase.encode(Multibase.Base.BASE16, HELLO));
        assertArrayEquals(HELLO, Multibase.decode("zStV1DL6CwTryKyV"));
        assertArrayEquals(HELLO, Multibase.decode("bnbswy3dpeb3w64tmmq"));
        assertArrayEquals(HELLO, Multibase.decode("BNBSWY3DPEB3W64TMMQ"));
        assertArrayEquals(HELLO, Multibase.decode("f68656c6c6f20776f726c64"));
        // leading zero bytes map to leading '1's in base58
        assertEquals("z1112", Multibase.encode(Multibase.Base.BASE58BTC, new byte[] {0, 0, 0, 1}));
        assertArrayEquals(new byte[] {0, 0, 0, 1}, Base58.decode("1112"));
    }

    @Test
    void roundTripsRandom() {
        Random r = new Random(7);
        for (int i = 0; i < 500; i++) {
            byte[] b = new byte[r.nextInt(70)];
            r.nextBytes(b);
            if (i % 5 == 0 && b.length > 2) {
                b[0] = 0;
                b[1] = 0;
            }
            for (Multibase.Base base : Multibase.Base.values()) {
                assertArrayEquals(b, Multibase.decode(Multibase.encode(base, b)), base.name());
            }
        }
    }

    @Test
    void garbageIsRejectedClearly() {
        assertThrows(IllegalArgumentException.class, () -> Multibase.decode(""));
        assertThrows(IllegalArgumentException.class, () -> Multibase.decode("m aGVsbG8="));
        assertThrows(IllegalArgumentException.class, () -> Multibase.decode("z0OIl"));
        assertThrows(IllegalArgumentException.class, () -> Multibase.decode("bABC"));
        assertThrows(IllegalArgumentException.class, () -> Multibase.decode("b1"));
        assertThrows(IllegalArgumentException.class, () -> Multibase.decode("bnbswy3dpeb3w64tmmr")); // trailing bits
        assertThrows(IllegalArgumentException.class, () -> Multibase.decode("fabc"));
        assertThrows(IllegalArgumentException.class, () -> Multibase.decode("fzz"));
        assertThrows(IllegalArgumentException.class, () -> Multibase.decode("z" + "2".repeat(5000)));
        Random r = new Random(3);
        for (int i = 0; i < 2000; i++) {
            char[] cs = new char[r.nextInt(40)];
            for (int j = 0; j < cs.length; j++) {
                cs[j] = (char) r.nextInt(256);
            }
            try {
                Multibase.decode(new String(cs));
            } catch (IllegalArgumentException expected) {
                // clear rejection is fine; anything else fails the test
            }
        }
    }
}
