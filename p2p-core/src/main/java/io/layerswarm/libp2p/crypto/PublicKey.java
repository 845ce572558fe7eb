package io.layerswarm.libp2p.crypto;

import com.google.protobuf.ByteString;
import io.layerswarm.libp2p.crypto.pb.KeyProtos;

/** A libp2p public key: verifies signatures and serialises to the libp2p {@code PublicKey} protobuf. */
public interface PublicKey {

    /** The key type. */
    KeyProtos.KeyType type();

    /** The type-specific encoding (the protobuf {@code Data} field). */
    byte[] raw();

    /** Whether {@code signature} is valid for {@code data}; never throws for malformed signatures. */
    boolean verify(byte[] data, byte[] signature);

    /**
     * The deterministic protobuf encoding: field 1 (Type) then field 2 (Data), nothing else, as the
     * peer-id spec requires for stable peer ids.
     */
    default byte[] marshal() {
        return KeyProtos.PublicKey.newBuilder().setType(type())
                .setData(ByteString.copyFrom(raw())).build().toByteArray();
    }
}
