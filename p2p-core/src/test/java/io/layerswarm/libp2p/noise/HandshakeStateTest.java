package io.layerswarm.libp2p.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class HandshakeStateTest {

    private static final SecureRandom RANDOM = new SecureRandom();

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /**
     * The Noise_XX_25519_ChaChaPoly_SHA256 vector from cacophony's published test vectors
     * (vectors/cacophony.txt): fixed statics and ephemerals, three handshake messages and three
     * transport messages checked byte for byte, plus the handshake hash.
     */
    @Test
    void cacophonyVector() {
        byte[] prologue = hex("4a6f686e2047616c74");
        HandshakeState init = new HandshakeState(true, prologue,
                X25519KeyPair.fromPrivate(hex("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1")),
                X25519KeyPair.fromPrivate(hex("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a")), RANDOM);
        HandshakeState resp = new HandshakeState(false, prologue,
                X25519KeyPair.fromPrivate(hex("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893")),
                X25519KeyPair.fromPrivate(hex("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b")), RANDOM);
        String[][] messages = {
            {"4c756477696720766f6e204d69736573",
                "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d69736573"},
            {"4d757272617920526f746862617264",
                "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480884381cbad1f276e038c48378ffce2b65285e08d6b68aaa3629a5a8639392490e5b9bd5269c2f1e4f488ed8831161f19b7815528f8982ffe09be9b5c412f8a0db50f8814c7194e83f23dbd8d162c9326ad"},
            {"462e20412e20486179656b",
                "c7195ffacac1307ff99046f219750fc47693e23c3cb08b89c2af808b444850a80ae475b9df0f169ae80a89be0865b57f58c9fea0d4ec82a286427402f113e4b6ae769a1d95941d49b25030"},
            {"4361726c204d656e676572", "96763ed773f8e47bb3712f0e29b3060ffc956ffc146cee53d5e1df"},
            {"4a65616e2d426170746973746520536179", "3e40f15f6f3a46ae446b253bf8b1d9ffb6ed9b174d272328ff91a7e2e5c79c07f5"},
            {"457567656e2042f6686d20766f6e2042617765726b",
                "eb3f3515110702e047a6c9da4478b6ead94873c11c0f2d710ddb3f09fce024b3a58502ae3f"},
        };
        for (int i = 0; i < 3; i++) {
            HandshakeState w = i % 2 == 0 ? init : resp;
            HandshakeState r = i % 2 == 0 ? resp : init;
            byte[] msg = w.writeMessage(hex(messages[i][0]));
            assertEquals(messages[i][1], hex(msg), "handshake message " + i);
            assertEquals(messages[i][0], hex(r.readMessage(msg)));
        }
        assertEquals("c8e5f64e846193be2a834104c2a009868d6c9f3bd3c186299888b488b2f1f58e", hex(init.handshakeHash()));
        assertArrayEquals(init.handshakeHash(), resp.handshakeHash());
        CipherState[] ic = init.split();
        CipherState[] rc = resp.split();
        for (int i = 3; i < messages.length; i++) {
            CipherState send = i % 2 == 0 ? ic[0] : rc[0];
            CipherState recv = i % 2 == 0 ? rc[1] : ic[1];
            byte[] pt = hex(messages[i][0]);
            if (i % 2 == 0) {
                byte[] ct = send.encryptWithAd(new byte[0], pt);
                assertEquals(messages[i][1], hex(ct), "transport message " + i);
                assertEquals(messages[i][0], hex(recv.decryptWithAd(new byte[0], ct)));
            } else { // the zero-copy ByteBuffer path used by the transport handler must agree
                java.nio.ByteBuffer ct = java.nio.ByteBuffer.allocate(pt.length + CipherState.TAG_LEN);
                assertEquals(pt.length + CipherState.TAG_LEN, send.encrypt(java.nio.ByteBuffer.wrap(pt), ct));
                assertEquals(messages[i][1], hex(ct.array()), "transport message " + i);
                java.nio.ByteBuffer back = java.nio.ByteBuffer.allocate(pt.length);
                assertEquals(pt.length, recv.decrypt(java.nio.ByteBuffer.wrap(ct.array()), back));
                assertEquals(messages[i][0], hex(back.array()));
            }
        }
    }

    @Test
    void tamperedHandshakeMessageFailsAndPoisons() {
        HandshakeState init = new HandshakeState(true, new byte[0], X25519KeyPair.generate(RANDOM), null, RANDOM);
        HandshakeState resp = new HandshakeState(false, new byte[0], X25519KeyPair.generate(RANDOM), null, RANDOM);
        resp.readMessage(init.writeMessage(new byte[0]));
        byte[] m2 = resp.writeMessage("id".getBytes());
        m2[40] ^= 1; // inside the encrypted static key
        assertThrows(NoiseException.class, () -> init.readMessage(m2));
        assertNull(init.remoteStaticKey());
        assertThrows(IllegalStateException.class, () -> init.writeMessage(new byte[0]));
        assertThrows(IllegalStateException.class, init::split);
    }

    @Test
    void truncatedAndOutOfTurn() {
        HandshakeState resp = new HandshakeState(false, new byte[0], X25519KeyPair.generate(RANDOM), null, RANDOM);
        assertThrows(IllegalStateException.class, () -> resp.writeMessage(new byte[0]));
        assertThrows(NoiseException.class, () -> resp.readMessage(new byte[31]));
        HandshakeState init = new HandshakeState(true, new byte[0], X25519KeyPair.generate(RANDOM), null, RANDOM);
        HandshakeState resp2 = new HandshakeState(false, new byte[0], X25519KeyPair.generate(RANDOM), null, RANDOM);
        resp2.readMessage(init.writeMessage(new byte[0]));
        byte[] m2 = resp2.writeMessage(new byte[0]);
        assertThrows(NoiseException.class, () -> init.readMessage(java.util.Arrays.copyOf(m2, 60)));
        // the all-zero (low-order) ephemeral is refused
        HandshakeState resp3 = new HandshakeState(false, new byte[0], X25519KeyPair.generate(RANDOM), null, RANDOM);
        resp3.readMessage(new byte[32]);
        assertThrows(NoiseException.class, () -> resp3.writeMessage(new byte[0]));
    }

    @Test
    void cipherStateNonceRulesAndTamper() {
        CipherState a = new CipherState();
        CipherState b = new CipherState();
        byte[] k = new byte[32];
        RANDOM.nextBytes(k);
        a.initializeKey(k);
        b.initializeKey(k);
        byte[] c1 = a.encryptWithAd(new byte[0], "one".getBytes());
        byte[] c2 = a.encryptWithAd(new byte[0], "two".getBytes());
        assertThrows(NoiseException.class, () -> b.decryptWithAd(new byte[0], c2)); // out of order
        byte[] bad = c1.clone();
        bad[0] ^= 1;
        assertThrows(NoiseException.class, () -> b.decryptWithAd(new byte[0], bad));
        assertThrows(NoiseException.class, () -> b.decryptWithAd(new byte[0], new byte[3]));
        assertEquals("one", new String(b.decryptWithAd(new byte[0], c1))); // failures did not consume a nonce
        assertEquals("two", new String(b.decryptWithAd(new byte[0], c2)));
        a.setNonce(-2L); // 2^64-2: the last usable nonce
        a.encryptWithAd(new byte[0], new byte[1]);
        NoiseException e = assertThrows(NoiseException.class, () -> a.encryptWithAd(new byte[0], new byte[1]));
        assertTrue(e.getMessage().contains("exhausted"));
    }
}
