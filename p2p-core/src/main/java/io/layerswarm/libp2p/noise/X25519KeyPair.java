package io.layerswarm.libp2p.noise;

import java.security.SecureRandom;
import org.bouncycastle.crypto.agreement.X25519Agreement;
import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.X25519PublicKeyParameters;

/** A Curve25519 Diffie-Hellman key pair (Noise's {@code 25519} DH functions). */
public final class X25519KeyPair {

    /** Public key and shared secret length. */
    public static final int DH_LEN = 32;

    private final X25519PrivateKeyParameters privateKey;
    private final byte[] publicKey;

    private X25519KeyPair(X25519PrivateKeyParameters privateKey) {
        this.privateKey = privateKey;
        this.publicKey = privateKey.generatePublicKey().getEncoded();
    }

    /** GENERATE_KEYPAIR. */
    public static X25519KeyPair generate(SecureRandom random) {
        return new X25519KeyPair(new X25519PrivateKeyParameters(random));
    }

    /** The key pair with a given 32-byte private key (test vectors). */
    public static X25519KeyPair fromPrivate(byte[] privateKey) {
        if (privateKey.length != DH_LEN) {
            throw new IllegalArgumentException("X25519 private key must be 32 bytes");
        }
        return new X25519KeyPair(new X25519PrivateKeyParameters(privateKey, 0));
    }

    /** The public key. */
    public byte[] publicKey() {
        return publicKey.clone();
    }

    /**
     * DH(this, remotePublic).
     *
     * @throws NoiseException if the result is all zeros (a low-order remote point)
     */
    public byte[] dh(byte[] remotePublic) {
        if (remotePublic.length != DH_LEN) {
            throw new NoiseException("X25519 public key must be 32 bytes");
        }
        X25519Agreement agreement = new X25519Agreement();
        agreement.init(privateKey);
        byte[] out = new byte[DH_LEN];
        try {
            agreement.calculateAgreement(new X25519PublicKeyParameters(remotePublic, 0), out, 0);
        } catch (IllegalStateException e) {
            throw new NoiseException("X25519 agreement failed (low-order public key)", e);
        }
        return out;
    }
}
