package io.layerswarm.libp2p.noise;

import java.util.Arrays;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.modes.ChaCha20Poly1305;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * Noise CipherState (spec section 5.1) with ChaChaPoly: 96-bit nonce = 32 zero bits followed by the
 * 64-bit little-endian counter. A failed decryption leaves the nonce unchanged; the counter value
 * 2^64-1 is reserved, so the state refuses to go past 2^64-2. Not thread-safe: one per direction,
 * owned by one event loop.
 */
public final class CipherState {

    /** Poly1305 tag length. */
    public static final int TAG_LEN = 16;

    private final ChaCha20Poly1305 aead = new ChaCha20Poly1305();
    private final byte[] nonceBytes = new byte[12];
    private KeyParameter key;
    private long n;

    /** An empty (keyless) state. */
    public CipherState() {
    }

    /** InitializeKey: sets the key and resets the nonce. */
    public void initializeKey(byte[] k) {
        if (k == null) {
            key = null;
        } else {
            if (k.length != 32) {
                throw new IllegalArgumentException("cipher key must be 32 bytes");
            }
            key = new KeyParameter(k.clone());
        }
        n = 0;
    }

    /** HasKey. */
    public boolean hasKey() {
        return key != null;
    }

    /** Sets the nonce (tests of nonce exhaustion). */
    void setNonce(long nonce) {
        this.n = nonce;
    }

    /** EncryptWithAd: plaintext passes through when there is no key. */
    public byte[] encryptWithAd(byte[] ad, byte[] plaintext) {
        return encryptWithAd(ad, plaintext, 0, plaintext.length);
    }

    /** EncryptWithAd over a slice. */
    public byte[] encryptWithAd(byte[] ad, byte[] plaintext, int off, int len) {
        if (key == null) {
            return Arrays.copyOfRange(plaintext, off, off + len);
        }
        checkNonce();
        init(true, ad);
        byte[] out = new byte[len + TAG_LEN];
        int o = aead.processBytes(plaintext, off, len, out, 0);
        try {
            aead.doFinal(out, o);
        } catch (InvalidCipherTextException e) {
            throw new IllegalStateException("encryption cannot fail", e);
        }
        n++;
        return out;
    }

    /**
     * DecryptWithAd.
     *
     * @throws NoiseException if authentication fails (the nonce is then not advanced)
     */
    public byte[] decryptWithAd(byte[] ad, byte[] ciphertext) {
        return decryptWithAd(ad, ciphertext, 0, ciphertext.length);
    }

    /** DecryptWithAd over a slice. */
    public byte[] decryptWithAd(byte[] ad, byte[] ciphertext, int off, int len) {
        if (key == null) {
            return Arrays.copyOfRange(ciphertext, off, off + len);
        }
        if (len < TAG_LEN) {
            throw new NoiseException("Noise ciphertext shorter than the 16-byte tag (" + len + " bytes)");
        }
        checkNonce();
        init(false, ad);
        byte[] out = new byte[len - TAG_LEN];
        try {
            int o = aead.processBytes(ciphertext, off, len, out, 0);
            aead.doFinal(out, o);
        } catch (InvalidCipherTextException | IllegalStateException e) {
            throw new NoiseException("Noise decryption failed: authentication tag mismatch", e);
        }
        n++;
        return out;
    }

    private void checkNonce() {
        if (n == -1L) { // 2^64-1 as unsigned: reserved, never used
            throw new NoiseException("Noise nonce space exhausted; the session must be re-established");
        }
    }

    private void init(boolean forEncryption, byte[] ad) {
        long v = n;
        for (int i = 0; i < 8; i++) {
            nonceBytes[4 + i] = (byte) v;
            v >>>= 8;
        }
        aead.init(forEncryption, new AEADParameters(key, TAG_LEN * 8, nonceBytes, ad));
    }
}
