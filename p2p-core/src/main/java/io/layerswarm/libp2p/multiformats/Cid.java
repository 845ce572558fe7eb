package io.layerswarm.libp2p.multiformats;

import java.io.ByteArrayOutputStream;
import java.util.Objects;

/**
 * A content identifier. CIDv0 is a bare base58 sha2-256 multihash with the implied dag-pb codec;
 * CIDv1 is {@code varint(1) varint(codec) multihash}, printed in base32 ({@code b...}).
 *
 * @param version 0 or 1
 * @param codec the content multicodec (dag-pb for v0)
 * @param multihash the content hash
 */
public record Cid(int version, long codec, Multihash multihash) {

    /** Validates the combination. */
    public Cid {
        Objects.requireNonNull(multihash, "multihash");
        if (version == 0) {
            if (codec != Multicodec.DAG_PB || multihash.code() != Multicodec.SHA2_256) {
                throw new IllegalArgumentException("CIDv0 must be dag-pb with a sha2-256 multihash");
            }
        } else if (version != 1) {
            throw new IllegalArgumentException("unsupported CID version " + version);
        }
        if (codec < 0) {
            throw new IllegalArgumentException("negative codec");
        }
    }

    /** A CIDv1. */
    public static Cid v1(long codec, Multihash multihash) {
        return new Cid(1, codec, multihash);
    }

    /** The binary CID. */
    public byte[] bytes() {
        byte[] mh = multihash.bytes();
        if (version == 0) {
            return mh;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(mh.length + 4);
        out.writeBytes(Varint.encode(1));
        out.writeBytes(Varint.encode(codec));
        out.writeBytes(mh);
        return out.toByteArray();
    }

    /**
     * Decodes a binary CID (v0 when it is a 34-byte sha2-256 multihash).
     *
     * @throws IllegalArgumentException if malformed
     */
    public static Cid decode(byte[] bytes) {
        if (bytes.length == 34 && bytes[0] == 0x12 && bytes[1] == 0x20) {
            return new Cid(0, Multicodec.DAG_PB, Multihash.decode(bytes));
        }
        Varint.Decoded version = Varint.decode(bytes, 0, bytes.length);
        if (version.value() != 1) {
            throw new IllegalArgumentException("unsupported CID version " + version.value());
        }
        Varint.Decoded codec = Varint.decode(bytes, version.length(), bytes.length);
        int off = version.length() + codec.length();
        Multihash.Read mh = Multihash.decode(bytes, off, bytes.length, true);
        return new Cid(1, codec.value(), mh.multihash());
    }

    /**
     * Parses text: a CIDv0 ({@code Qm...}, 46 chars) or a multibase CIDv1.
     *
     * @throws IllegalArgumentException if malformed
     */
    public static Cid parse(String text) {
        Objects.requireNonNull(text, "cid");
        if (text.length() == 46 && text.startsWith("Qm")) {
            return decode(Base58.decode(text));
        }
        Cid cid = decode(Multibase.decode(text));
        if (cid.version() == 0) {
            throw new IllegalArgumentException("CIDv0 must not carry a multibase prefix");
        }
        return cid;
    }

    /** Canonical text: base58 for v0, base32 for v1. */
    @Override
    public String toString() {
        return version == 0 ? Base58.encode(bytes()) : Multibase.encode(Multibase.Base.BASE32, bytes());
    }

    /** Text in a chosen base (v1 only). */
    public String toString(Multibase.Base base) {
        if (version == 0) {
            throw new IllegalStateException("CIDv0 has only the base58 form");
        }
        return Multibase.encode(base, bytes());
    }
}
