package io.layerswarm.libp2p.crypto;

import com.google.protobuf.InvalidProtocolBufferException;
import io.layerswarm.libp2p.crypto.pb.KeyProtos;
import io.layerswarm.libp2p.multiformats.Base58;
import io.layerswarm.libp2p.multiformats.Cid;
import io.layerswarm.libp2p.multiformats.Multicodec;
import io.layerswarm.libp2p.multiformats.Multihash;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * A libp2p peer id: the multihash of the protobuf-encoded public key — identity when the encoding is
 * at most 42 bytes (Ed25519), sha2-256 otherwise. Text forms: base58btc ({@code 12D3KooW...},
 * {@code Qm...}, canonical) and CIDv1 with the libp2p-key codec ({@code bafzaa...}); both parse.
 */
public final class PeerId implements Comparable<PeerId> {

    /** Keys whose encoding is at most this long are inlined with the identity hash. */
    public static final int MAX_INLINE_KEY_LENGTH = 42;

    private final byte[] bytes;
    private final Multihash multihash;

    private PeerId(Multihash multihash) {
        this.multihash = multihash;
        this.bytes = multihash.bytes();
    }

    /** The peer id of {@code key}. */
    public static PeerId fromPublicKey(PublicKey key) {
        byte[] enc = key.marshal();
        return new PeerId(enc.length <= MAX_INLINE_KEY_LENGTH ? Multihash.identity(enc) : Multihash.sha256(enc));
    }

    /**
     * Wraps the binary form (a multihash).
     *
     * @throws IllegalArgumentException if not a valid identity/sha2-256 peer id multihash
     */
    public static PeerId fromBytes(byte[] bytes) {
        Multihash mh = Multihash.decode(bytes);
        if (mh.code() == Multicodec.IDENTITY) {
            if (mh.digest().length > MAX_INLINE_KEY_LENGTH) {
                throw new IllegalArgumentException("identity peer id longer than " + MAX_INLINE_KEY_LENGTH + " bytes");
            }
            // Must be a key protobuf, but of any type: a peer id is a name, and peers with key types we
            // cannot verify (e.g. secp256k1) still need to be addressable.
            try {
                KeyProtos.PublicKey.parseFrom(mh.digest());
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalArgumentException("identity peer id does not contain a PublicKey protobuf", e);
            }
        } else if (mh.code() != Multicodec.SHA2_256) {
            throw new IllegalArgumentException("peer id multihash must be identity or sha2-256");
        }
        return new PeerId(mh);
    }

    /**
     * Parses base58btc or CIDv1 (libp2p-key) text.
     *
     * @throws IllegalArgumentException with the reason if the text is not a peer id
     */
    public static PeerId parse(String text) {
        Objects.requireNonNull(text, "peer id");
        if (text.isEmpty() || text.length() > 128) {
            throw new IllegalArgumentException("invalid peer id: length " + text.length());
        }
        char c = text.charAt(0);
        try {
            if (c == '1' || c == 'Q') {
                return fromBytes(Base58.decode(text));
            }
            Cid cid = Cid.parse(text);
            if (cid.version() != 1 || cid.codec() != Multicodec.LIBP2P_KEY) {
                throw new IllegalArgumentException("CID is not a libp2p-key (0x72) CIDv1");
            }
            return fromBytes(cid.multihash().bytes());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid peer id '" + text + "': " + e.getMessage(), e);
        }
    }

    /** The binary form. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The underlying multihash. */
    public Multihash multihash() {
        return multihash;
    }

    /**
     * The public key, when it is inlined (identity multihash) and of a supported type (Ed25519);
     * empty for hashed ids and for key types this implementation cannot use.
     */
    public Optional<PublicKey> publicKey() {
        if (multihash.code() != Multicodec.IDENTITY) {
            return Optional.empty();
        }
        try {
            return Optional.of(Keys.unmarshalPublicKey(multihash.digest()));
        } catch (IllegalArgumentException unsupported) {
            return Optional.empty();
        }
    }

    /** Whether {@code key} is the key this id names. */
    public boolean matches(PublicKey key) {
        return MessageDigest.isEqual(bytes, fromPublicKey(key).bytes);
    }

    /** The base58btc form. */
    public String toBase58() {
        return Base58.encode(bytes);
    }

    /** The CIDv1 (libp2p-key, base32) form. */
    public String toCidString() {
        return Cid.v1(Multicodec.LIBP2P_KEY, multihash).toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PeerId p && Arrays.equals(p.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public int compareTo(PeerId o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    /** The canonical base58btc form. */
    @Override
    public String toString() {
        return toBase58();
    }
}
