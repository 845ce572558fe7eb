package io.layerswarm.libp2p.multiformats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CidTest {

    @Test
    void multihashSha256OfKnownInput() {
        Multihash mh = Multihash.sha256("foo".getBytes(StandardCharsets.UTF_8));
        assertEquals("12202c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                HexFormat.of().formatHex(mh.bytes()));
        assertEquals(mh, Multihash.decode(mh.bytes()));
        assertThrows(IllegalArgumentException.class, () -> Multihash.decode(HexFormat.of().parseHex("1220abcd")));
        assertThrows(IllegalArgumentException.class, () -> Multihash.decode(HexFormat.of().parseHex("1202abcd")));
        assertThrows(IllegalArgumentException.class, () -> Multihash.decode(HexFormat.of().parseHex("0002abcdef")));
        assertThrows(IllegalArgumentException.class, () -> Multihash.decode(HexFormat.of().parseHex("1102abcd")));
        assertThrows(IllegalArgumentException.class, () -> Multihash.decode(HexFormat.of().parseHex("00ffff03")));
    }

    @Test
    void cidV0AndV1KnownValues() {
        // From the multiformats CID spec: the same content as CIDv0 and CIDv1 (dag-pb, base32).
        Cid v0 = Cid.parse("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n");
        assertEquals(0, v0.version());
        assertEquals(Multicodec.DAG_PB, v0.codec());
        Cid v1 = Cid.v1(Multicodec.DAG_PB, v0.multihash());
        assertEquals("bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", v1.toString());
        assertEquals(v1, Cid.parse(v1.toString()));
        assertEquals(v0, Cid.decode(v0.bytes()));
        assertEquals("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n", v0.toString());
        assertEquals(v1, Cid.parse(v1.toString(Multibase.Base.BASE58BTC)));
    }

    @Test
    void garbageCidsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Cid.parse("bafy"));
        assertThrows(IllegalArgumentException.class, () -> Cid.parse("Qm" + "1".repeat(44)));
        assertThrows(IllegalArgumentException.class, () -> Cid.decode(new byte[] {2, 0x55, 0, 0}));
        assertThrows(IllegalArgumentException.class, () -> Cid.decode(new byte[0]));
        Random r = new Random(11);
        for (int i = 0; i < 5000; i++) {
            byte[] g = new byte[r.nextInt(50)];
            r.nextBytes(g);
            if (g.length > 0 && i % 2 == 0) {
                g[0] = 1;
            }
            try {
                Cid c = Cid.decode(g);
                assertArrayEquals(g, c.bytes());
            } catch (IllegalArgumentException expected) {
                // clear rejection
            }
        }
    }
}
