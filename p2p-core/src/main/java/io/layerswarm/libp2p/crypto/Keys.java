package io.layerswarm.libp2p.crypto;

import com.google.protobuf.InvalidProtocolBufferException;
import io.layerswarm.libp2p.crypto.pb.KeyProtos;
import java.util.Arrays;

/** Decoding of the libp2p key protobufs. Only Ed25519 is implemented; other types fail clearly. */
public final class Keys {

    /** Largest serialised key accepted (an RSA-4096 key is ~2.4 KiB). */
    public static final int MAX_ENCODED_LENGTH = 8192;

    private Keys() {
    }

    /**
     * Decodes a {@code PublicKey} protobuf.
     *
     * @throws IllegalArgumentException if malformed, non-canonical, or of an unsupported type
     */
    public static PublicKey unmarshalPublicKey(byte[] bytes) {
        if (bytes.length > MAX_ENCODED_LENGTH) {
            throw new IllegalArgumentException("public key encoding too long: " + bytes.length + " bytes");
        }
        KeyProtos.PublicKey pb;
        try {
            pb = KeyProtos.PublicKey.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("malformed PublicKey protobuf: " + e.getMessage(), e);
        }
        PublicKey key = switch (pb.getType()) {
            case Ed25519 -> new Ed25519PublicKey(pb.getData().toByteArray());
            default -> throw new IllegalArgumentException("unsupported public key type " + pb.getType()
                    + " (only Ed25519 is implemented)");
        };
        // Unknown fields or reordering would give the same key two peer ids; insist on the canonical form.
        if (!Arrays.equals(key.marshal(), bytes)) {
            throw new IllegalArgumentException("PublicKey protobuf is not canonically encoded");
        }
        return key;
    }

    /**
     * Decodes a {@code PrivateKey} protobuf.
     *
     * @throws IllegalArgumentException if malformed or of an unsupported type
     */
    public static PrivateKey unmarshalPrivateKey(byte[] bytes) {
        if (bytes.length > MAX_ENCODED_LENGTH) {
            throw new IllegalArgumentException("private key encoding too long: " + bytes.length + " bytes");
        }
        KeyProtos.PrivateKey pb;
        try {
            pb = KeyProtos.PrivateKey.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("malformed PrivateKey protobuf: " + e.getMessage(), e);
        }
        return switch (pb.getType()) {
            case Ed25519 -> Ed25519PrivateKey.fromRaw(pb.getData().toByteArray());
            default -> throw new IllegalArgumentException("unsupported private key type " + pb.getType()
                    + " (only Ed25519 is implemented)");
        };
    }
}
