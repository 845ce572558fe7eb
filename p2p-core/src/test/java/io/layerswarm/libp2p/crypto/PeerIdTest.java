package io.layerswarm.libp2p.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.multiformats.Multicodec;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PeerIdTest {

    // Test vector from the libp2p peer-ids spec ("Test vectors" table): Ed25519 private and public key protobufs.
    private static final String SPEC_PRIV = "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d"
            + "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
    private static final String SPEC_PUB = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    @Test
    void specVectorPrivateKeyDerivesPublicKeyAndPeerId() {
        PrivateKey priv = Keys.unmarshalPrivateKey(hex(SPEC_PRIV));
        assertEquals(SPEC_PUB, HexFormat.of().formatHex(priv.publicKey().marshal()));
        assertArrayEquals(hex(SPEC_PRIV), priv.marshal());
        PublicKey pub = Keys.unmarshalPublicKey(hex(SPEC_PUB));
        assertEquals(priv.publicKey(), pub);
        PeerId id = PeerId.fromPublicKey(pub);
        // identity multihash: 0x00, length 36, then the key protobuf
        assertEquals("0024" + SPEC_PUB, HexFormat.of().formatHex(id.bytes()));
        assertEquals("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", id.toString());
        assertEquals(pub, id.publicKey().orElseThrow());
    }

    @Test
    void knownPeerIdTextForms() {
        // A published Ed25519 key with its base58 and CIDv1 peer id forms.
        PublicKey pub = Keys.unmarshalPublicKey(
                hex("080112202ffa35a99d3a3cfbb17bb7c1dc5561b18a8dcca4df38dc613ea859c37eb1336b"));
        PeerId id = PeerId.fromPublicKey(pub);
        assertEquals("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA", id.toBase58());
        assertEquals("bafzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l", id.toCidString());
        assertEquals(id, PeerId.parse(id.toCidString()));
        assertEquals(id, PeerId.parse(id.toBase58()));
        assertEquals(PeerId.parse("12D3KooW9pte76rpnggcLYkFaawuTEs5DC5axHkg3cK3cewGxxHd"),
                PeerId.parse("bafzaajaiaejcaabcornvmd5g5bolzmcr6smsje7owdd3xk7lojqydmthdt47iqmi"));
        // sha2-256 peer id (RSA era) from the spec parses and keeps its form.
        PeerId rsa = PeerId.parse("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");
        assertEquals(Multicodec.SHA2_256, rsa.multihash().code());
        assertEquals("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", rsa.toString());
        assertTrue(rsa.publicKey().isEmpty());
    }

    @Test
    void secp256k1PeerIdsAreNamesEvenThoughTheKeyTypeIsUnsupported() {
        // secp256k1 public key protobuf from the peer-ids spec test vectors (37 bytes: inlined)
        byte[] key = hex("08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99");
        byte[] mh = new byte[2 + key.length];
        mh[1] = (byte) key.length;
        System.arraycopy(key, 0, mh, 2, key.length);
        PeerId id = PeerId.fromBytes(mh);
        assertTrue(id.toString().startsWith("16Uiu2HA"), id.toString());
        assertEquals(id, PeerId.parse(id.toString()));
        assertEquals(id, PeerId.parse(id.toCidString()));
        assertTrue(id.publicKey().isEmpty());
        assertThrows(IllegalArgumentException.class, () -> Keys.unmarshalPublicKey(key));
        assertThrows(IllegalArgumentException.class, () -> PeerId.fromBytes(new byte[] {0, 3, 1, 2, 3}));
    }

    @Test
    void largeKeysAreHashed() {
        PublicKey big = new PublicKey() {
            @Override
            public io.layerswarm.libp2p.crypto.pb.KeyProtos.KeyType type() {
                return io.layerswarm.libp2p.crypto.pb.KeyProtos.KeyType.RSA;
            }

            @Override
            public byte[] raw() {
                return new byte[270];
            }

            @Override
            public boolean verify(byte[] data, byte[] signature) {
                return false;
            }
        };
        PeerId id = PeerId.fromPublicKey(big);
        assertEquals(Multicodec.SHA2_256, id.multihash().code());
        assertTrue(id.toString().startsWith("Qm"));
    }

    @Test
    void signAndVerify() {
        Ed25519PrivateKey k = Ed25519PrivateKey.generate();
        byte[] msg = "layer".getBytes(StandardCharsets.UTF_8);
        byte[] sig = k.sign(msg);
        assertTrue(k.publicKey().verify(msg, sig));
        sig[3] ^= 1;
        assertFalse(k.publicKey().verify(msg, sig));
        assertFalse(k.publicKey().verify(msg, new byte[5]));
        assertFalse(Ed25519PrivateKey.generate().publicKey().verify(msg, k.sign(msg)));
        assertTrue(k.peerId().toString().startsWith("12D3KooW"));
        assertNotEquals(k.peerId(), Ed25519PrivateKey.generate().peerId());
        assertTrue(k.peerId().matches(k.publicKey()));
    }

    @Test
    void legacy96ByteKeyAccepted() {
        byte[] raw = hex(SPEC_PRIV.substring(8));
        byte[] legacy = new byte[96];
        System.arraycopy(raw, 0, legacy, 0, 64);
        System.arraycopy(raw, 32, legacy, 64, 32);
        assertArrayEquals(raw, Ed25519PrivateKey.fromRaw(legacy).raw());
        legacy[95] ^= 1;
        assertThrows(IllegalArgumentException.class, () -> Ed25519PrivateKey.fromRaw(legacy));
        byte[] wrongPub = raw.clone();
        wrongPub[40] ^= 1;
        assertThrows(IllegalArgumentException.class, () -> Ed25519PrivateKey.fromRaw(wrongPub));
    }

    @Test
    void garbageRejected() {
        assertThrows(IllegalArgumentException.class, () -> PeerId.parse(""));
        assertThrows(IllegalArgumentException.class, () -> PeerId.parse("12D3KooW"));
        assertThrows(IllegalArgumentException.class, () -> PeerId.parse("bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"));
        assertThrows(IllegalArgumentException.class, () -> PeerId.parse("x".repeat(500)));
        // non-canonical: extra unknown field appended
        assertThrows(IllegalArgumentException.class, () -> Keys.unmarshalPublicKey(hex(SPEC_PUB + "1801")));
        // field order swapped
        assertThrows(IllegalArgumentException.class, () -> Keys.unmarshalPublicKey(
                hex("12201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e0801")));
        assertThrows(IllegalArgumentException.class, () -> Keys.unmarshalPublicKey(hex("0800122101")));
        IllegalArgumentException rsa = assertThrows(IllegalArgumentException.class,
                () -> Keys.unmarshalPublicKey(hex("08001203010203")));
        assertTrue(rsa.getMessage().contains("RSA"));
        assertThrows(IllegalArgumentException.class, () -> Keys.unmarshalPrivateKey(new byte[10_000]));
        Random r = new Random(9);
        for (int i = 0; i < 5000; i++) {
            byte[] g = new byte[r.nextInt(80)];
            r.nextBytes(g);
            try {
                PeerId.fromBytes(g);
            } catch (IllegalArgumentException expected) {
                // clear rejection
            }
            try {
                Keys.unmarshalPrivateKey(g);
            } catch (IllegalArgumentException expected) {
                // clear rejection
            }
        }
    }
}
