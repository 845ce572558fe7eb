package io.layerswarm.libp2p.crypto;

import io.layerswarm.libp2p.crypto.pb.KeyProtos;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * An Ed25519 private key. The libp2p encoding is {@code seed(32) || public(32)}; the legacy 96-byte
 * form (public key repeated) is accepted on input when both copies agree.
 */
public final class Ed25519PrivateKey implements PrivateKey {

    private final Ed25519PrivateKeyParameters params;
    private final Ed25519PublicKey publicKey;

    private Ed25519PrivateKey(Ed25519PrivateKeyParameters params) {
        this.params = params;
        this.publicKey = new Ed25519PublicKey(params.generatePublicKey().getEncoded());
    }

    /** A fresh random key. */
    public static Ed25519PrivateKey generate() {
        return generate(new SecureRandom());
    }

    /** A fresh key from {@code random}. */
    public static Ed25519PrivateKey generate(SecureRandom random) {
        return new Ed25519PrivateKey(new Ed25519PrivateKeyParameters(random));
    }

    /** The key with the given 32-byte seed. */
    public static Ed25519PrivateKey fromSeed(byte[] seed) {
        if (seed.length != 32) {
            throw new IllegalArgumentException("Ed25519 seed must be 32 bytes, got " + seed.length);
        }
        return new Ed25519PrivateKey(new Ed25519PrivateKeyParameters(seed, 0));
    }

    /**
     * Decodes the libp2p {@code Data} field: 64 bytes (seed, public) or legacy 96 bytes.
     *
     * @throws IllegalArgumentException if the length is wrong or the embedded public key does not match
     */
    public static Ed25519PrivateKey fromRaw(byte[] data) {
        if (data.length != 64 && data.length != 96) {
            throw new IllegalArgumentException("Ed25519 private key data must be 64 (or legacy 96) bytes, got "
                    + data.length);
        }
        if (data.length == 96 && !MessageDigest.isEqual(Arrays.copyOfRange(data, 32, 64),
                Arrays.copyOfRange(data, 64, 96))) {
            throw new IllegalArgumentException("legacy 96-byte Ed25519 key has two different public keys");
        }
        Ed25519PrivateKey key = fromSeed(Arrays.copyOfRange(data, 0, 32));
        if (!MessageDigest.isEqual(key.publicKey.raw(), Arrays.copyOfRange(data, 32, 64))) {
            throw new IllegalArgumentException("Ed25519 private key data: public half does not match the seed");
        }
        return key;
    }

    @Override
    public KeyProtos.KeyType type() {
        return KeyProtos.KeyType.Ed25519;
    }

    @Override
    public byte[] sign(byte[] data) {
        Ed25519Signer s = new Ed25519Signer();
        s.init(true, params);
        s.update(data, 0, data.length);
        return s.generateSignature();
    }

    @Override
    public Ed25519PublicKey publicKey() {
        return publicKey;
    }

    @Override
    public byte[] raw() {
        byte[] out = new byte[64];
        params.encode(out, 0);
        System.arraycopy(publicKey.raw(), 0, out, 32, 32);
        return out;
    }

    @Override
    public String toString() {
        return "Ed25519PrivateKey[" + peerId() + "]"; // never the secret
    }
}
