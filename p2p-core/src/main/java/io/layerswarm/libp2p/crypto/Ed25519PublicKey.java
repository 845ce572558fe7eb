package io.layerswarm.libp2p.crypto;

import io.layerswarm.libp2p.crypto.pb.KeyProtos;
import java.util.Arrays;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/** An Ed25519 public key (32 bytes, RFC 8032). */
public final class Ed25519PublicKey implements PublicKey {

    /** Encoded length. */
    public static final int LENGTH = 32;

    private final byte[] raw;
    private final Ed25519PublicKeyParameters params;

    /**
     * Wraps a raw 32-byte key.
     *
     * @throws IllegalArgumentException if the length is wrong or the point invalid
     */
    public Ed25519PublicKey(byte[] raw) {
        if (raw.length != LENGTH) {
            throw new IllegalArgumentException("Ed25519 public key must be 32 bytes, got " + raw.length);
        }
        this.raw = raw.clone();
        try {
            this.params = new Ed25519PublicKeyParameters(this.raw, 0);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid Ed25519 public key", e);
        }
    }

    @Override
    public KeyProtos.KeyType type() {
        return KeyProtos.KeyType.Ed25519;
    }

    @Override
    public byte[] raw() {
        return raw.clone();
    }

    @Override
    public boolean verify(byte[] data, byte[] signature) {
        if (signature == null || signature.length != 64) {
            return false;
        }
        try {
            Ed25519Signer v = new Ed25519Signer();
            v.init(false, params);
            v.update(data, 0, data.length);
            return v.verifySignature(signature);
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Ed25519PublicKey k && Arrays.equals(k.raw, raw);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(raw);
    }

    @Override
    public String toString() {
        return "Ed25519PublicKey[" + PeerId.fromPublicKey(this) + "]";
    }
}
