package io.layerswarm.libp2p.crypto;

import com.google.protobuf.ByteString;
import io.layerswarm.libp2p.crypto.pb.KeyProtos;

/** A libp2p private key: signs, and serialises to the libp2p {@code PrivateKey} protobuf. */
public interface PrivateKey {

    /** The key type. */
    KeyProtos.KeyType type();

    /** Signs {@code data}. */
    byte[] sign(byte[] data);

    /** The matching public key. */
    PublicKey publicKey();

    /** The type-specific encoding (the protobuf {@code Data} field). */
    byte[] raw();

    /** The protobuf {@code PrivateKey} encoding (the on-disk key format). */
    default byte[] marshal() {
        return KeyProtos.PrivateKey.newBuilder().setType(type())
                .setData(ByteString.copyFrom(raw())).build().toByteArray();
    }

    /** The peer id of this key's public half. */
    default PeerId peerId() {
        return PeerId.fromPublicKey(publicKey());
    }
}
