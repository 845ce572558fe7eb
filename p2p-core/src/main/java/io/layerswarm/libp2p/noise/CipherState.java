package io.layerswarm.libp2p.noise;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Noise CipherState (spec section 5.1) with ChaChaPoly: 96-bit nonce = 32 zero bits followed by the
 * 64-bit little-endian counter. A failed decryption leaves the nonce unchanged; the counter value
 * 2^64-1 is reserved, so the state refuses to go past 2^64-2. Not thread-safe: one per direction,
 * owned by one event loop. Uses the JDK's ChaCha20-Poly1305 (RFC 8439), measured faster than Bouncy
 * Castle's on this project's machines (BENCHMARKS.md).
 */
public final class CipherState {

    /** Poly1305 tag length. */
    public static final int TAG_LEN = 16;

    private static final byte[] NO_AD = new byte[0];

    private Cipher aead;
    /** The JDK refuses re-initialising with a key/nonce pair it just used; after a failed
     *  decryption (which must not consume the nonce) the next attempt needs a fresh instance. */
    private boolean nonceReused;
    private final byte[] nonceBytes = new byte[12];
    private SecretKeySpec key;
    private long n;

    /** An empty (keyless) state. */
    public CipherState() {
        aead = newCipher();
    }

    private static Cipher newCipher() {
        try {
            return Cipher.getInstance("ChaCha20-Poly1305");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK lacks ChaCha20-Poly1305", e);
        }
    }

    /** InitializeKey: sets the key and resets the nonce. */
    public void initializeKey(byte[] k) {
        if (k == null) {
            key = null;
        } else {
            if (k.length != 32) {
                throw new IllegalArgumentException("cipher key must be 32 bytes");
            }
            key = new SecretKeySpec(k, "ChaCha20");
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
        ByteBuffer out = ByteBuffer.allocate(len + TAG_LEN);
        seal(ad, ByteBuffer.wrap(plaintext, off, len), out);
        return out.array();
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
        ByteBuffer out = ByteBuffer.allocate(Math.max(0, len - TAG_LEN));
        open(ad, ByteBuffer.wrap(ciphertext, off, len), out);
        return out.array();
    }

    /**
     * Transport-phase encryption (empty associated data) from {@code in} into {@code out}, without
     * intermediate arrays; returns the bytes written ({@code in.remaining() + 16}).
     */
    public int encrypt(ByteBuffer in, ByteBuffer out) {
        requireKey();
        return seal(NO_AD, in, out);
    }

    /**
     * Transport-phase decryption (empty associated data) from {@code in} into {@code out}; returns the
     * plaintext length.
     *
     * @throws NoiseException if authentication fails (the nonce is then not advanced)
     */
    public int decrypt(ByteBuffer in, ByteBuffer out) {
        requireKey();
        return open(NO_AD, in, out);
    }

    private int seal(byte[] ad, ByteBuffer in, ByteBuffer out) {
        checkNonce();
        int written;
        try {
            init(Cipher.ENCRYPT_MODE, ad);
            written = aead.doFinal(in, out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 encryption failed", e);
        }
        n++;
        return written;
    }

    private int open(byte[] ad, ByteBuffer in, ByteBuffer out) {
        if (in.remaining() < TAG_LEN) {
            throw new NoiseException("Noise ciphertext shorter than the 16-byte tag (" + in.remaining() + " bytes)");
        }
        checkNonce();
        int written;
        try {
            init(Cipher.DECRYPT_MODE, ad);
            written = aead.doFinal(in, out);
        } catch (AEADBadTagException e) {
            nonceReused = true;
            throw new NoiseException("Noise decryption failed: authentication tag mismatch", e);
        } catch (GeneralSecurityException e) {
            nonceReused = true;
            throw new NoiseException("Noise decryption failed: " + e.getMessage(), e);
        }
        n++;
        return written;
    }

    private void requireKey() {
        if (key == null) {
            throw new IllegalStateException("transport cipher has no key");
        }
    }

    private void checkNonce() {
        if (n == -1L) { // 2^64-1 as unsigned: reserved, never used
            throw new NoiseException("Noise nonce space exhausted; the session must be re-established");
        }
    }

    private void init(int mode, byte[] ad) throws GeneralSecurityException {
        long v = n;
        for (int i = 0; i < 8; i++) {
            nonceBytes[4 + i] = (byte) v;
            v >>>= 8;
        }
        if (nonceReused) {
            aead = newCipher();
            nonceReused = false;
        }
        aead.init(mode, key, new IvParameterSpec(nonceBytes));
        if (ad.length > 0) {
            aead.updateAAD(ad);
        }
    }
}
