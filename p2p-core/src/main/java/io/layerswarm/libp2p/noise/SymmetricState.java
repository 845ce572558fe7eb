package io.layerswarm.libp2p.noise;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;

/** Noise SymmetricState (spec section 5.2) with SHA-256 and HKDF (section 4.3). */
final class SymmetricState {

    static final int HASH_LEN = 32;

    private final CipherState cipher = new CipherState();
    private byte[] ck;
    private byte[] h;

    /** InitializeSymmetric(protocolName). */
    SymmetricState(String protocolName) {
        byte[] name = protocolName.getBytes(StandardCharsets.US_ASCII);
        h = name.length <= HASH_LEN ? Arrays.copyOf(name, HASH_LEN) : hash(name);
        ck = h.clone();
        cipher.initializeKey(null);
    }

    void mixKey(byte[] ikm) {
        byte[][] out = hkdf(ck, ikm, 2);
        ck = out[0];
        cipher.initializeKey(out[1]); // HASHLEN is 32, so no truncation needed
    }

    void mixHash(byte[] data) {
        SHA256Digest d = new SHA256Digest();
        d.update(h, 0, h.length);
        d.update(data, 0, data.length);
        byte[] out = new byte[HASH_LEN];
        d.doFinal(out, 0);
        h = out;
    }

    byte[] encryptAndHash(byte[] plaintext) {
        byte[] c = cipher.encryptWithAd(h, plaintext);
        mixHash(c);
        return c;
    }

    byte[] decryptAndHash(byte[] ciphertext) {
        byte[] p = cipher.decryptWithAd(h, ciphertext);
        mixHash(ciphertext);
        return p;
    }

    boolean hasKey() {
        return cipher.hasKey();
    }

    byte[] handshakeHash() {
        return h.clone();
    }

    /** Split: the initiator-to-responder and responder-to-initiator cipher states. */
    CipherState[] split() {
        byte[][] out = hkdf(ck, new byte[0], 2);
        CipherState c1 = new CipherState();
        CipherState c2 = new CipherState();
        c1.initializeKey(out[0]);
        c2.initializeKey(out[1]);
        Arrays.fill(ck, (byte) 0);
        return new CipherState[] {c1, c2};
    }

    static byte[] hash(byte[] data) {
        SHA256Digest d = new SHA256Digest();
        d.update(data, 0, data.length);
        byte[] out = new byte[HASH_LEN];
        d.doFinal(out, 0);
        return out;
    }

    /** HKDF(chainingKey, ikm) with 2 or 3 outputs, as the Noise spec defines it. */
    static byte[][] hkdf(byte[] chainingKey, byte[] ikm, int outputs) {
        byte[] tempKey = hmac(chainingKey, ikm);
        byte[][] out = new byte[outputs][];
        byte[] prev = new byte[0];
        for (int i = 0; i < outputs; i++) {
            byte[] input = Arrays.copyOf(prev, prev.length + 1);
            input[prev.length] = (byte) (i + 1);
            prev = hmac(tempKey, input);
            out[i] = prev;
        }
        return out;
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        HMac mac = new HMac(new SHA256Digest());
        mac.init(new KeyParameter(key));
        mac.update(data, 0, data.length);
        byte[] out = new byte[HASH_LEN];
        mac.doFinal(out, 0);
        return out;
    }
}
