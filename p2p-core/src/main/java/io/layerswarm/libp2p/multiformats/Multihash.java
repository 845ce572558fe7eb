package io.layerswarm.libp2p.multiformats;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A self-describing hash: {@code varint(code) varint(length) digest}. Supports identity, sha2-256
 * and sha2-512; decoding validates lengths strictly so the binary form is canonical.
 */
public final class Multihash {

    /** Longest digest accepted (identity multihashes inline their content, so bound it). */
    public static final int MAX_DIGEST_LENGTH = 1024;

    private final int code;
    private final byte[] digest;

    private Multihash(int code, byte[] digest) {
        this.code = code;
        this.digest = digest;
    }

    /** Builds a multihash, checking the digest length fits the function. */
    public static Multihash of(int code, byte[] digest) {
        int expected = switch (code) {
            case Multicodec.IDENTITY -> -1;
            case Multicodec.SHA2_256 -> 32;
            case Multicodec.SHA2_512 -> 64;
            default -> throw new IllegalArgumentException("unsupported multihash code 0x"
                    + Integer.toHexString(code) + " (supported: identity, sha2-256, sha2-512)");
        };
        if (expected >= 0 && digest.length != expected) {
            throw new IllegalArgumentException("multihash 0x" + Integer.toHexString(code) + " needs a "
                    + expected + "-byte digest, got " + digest.length);
        }
        if (digest.length > MAX_DIGEST_LENGTH) {
            throw new IllegalArgumentException("multihash digest too long: " + digest.length + " bytes");
        }
        return new Multihash(code, digest.clone());
    }

    /** Identity multihash of {@code data}. */
    public static Multihash identity(byte[] data) {
        return of(Multicodec.IDENTITY, data);
    }

    /** sha2-256 multihash of {@code data}. */
    public static Multihash sha256(byte[] data) {
        try {
            return new Multihash(Multicodec.SHA2_256, MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("JDK lacks SHA-256", e);
        }
    }

    /**
     * Decodes a multihash that fills {@code bytes} exactly.
     *
     * @throws IllegalArgumentException on truncation, trailing bytes or unsupported functions
     */
    public static Multihash decode(byte[] bytes) {
        return decode(bytes, 0, bytes.length, true).multihash();
    }

    /** A multihash and the bytes it used. */
    record Read(Multihash multihash, int length) {
    }

    static Read decode(byte[] bytes, int offset, int limit, boolean exact) {
        Varint.Decoded code = Varint.decode(bytes, offset, limit);
        Varint.Decoded len = Varint.decode(bytes, offset + code.length(), limit);
        if (code.value() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("unsupported multihash code " + code.value());
        }
        if (len.value() > MAX_DIGEST_LENGTH) {
            throw new IllegalArgumentException("multihash digest length " + len.value() + " exceeds "
                    + MAX_DIGEST_LENGTH);
        }
        int start = offset + code.length() + len.length();
        int end = start + (int) len.value();
        if (end > limit) {
            throw new IllegalArgumentException("truncated multihash: digest needs " + len.value()
                    + " bytes, " + (limit - start) + " present");
        }
        if (exact && end != limit) {
            throw new IllegalArgumentException("trailing bytes after multihash");
        }
        return new Read(of((int) code.value(), Arrays.copyOfRange(bytes, start, end)), end - offset);
    }

    /** The hash function code. */
    public int code() {
        return code;
    }

    /** A copy of the digest. */
    public byte[] digest() {
        return digest.clone();
    }

    /** The binary multihash. */
    public byte[] bytes() {
        byte[] out = new byte[Varint.encodedLength(code) + Varint.encodedLength(digest.length) + digest.length];
        int o = Varint.write(code, out, 0);
        o += Varint.write(digest.length, out, o);
        System.arraycopy(digest, 0, out, o, digest.length);
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Multihash m && m.code == code && Arrays.equals(m.digest, digest);
    }

    @Override
    public int hashCode() {
        return 31 * code + Arrays.hashCode(digest);
    }

    @Override
    public String toString() {
        return "Multihash[0x" + Integer.toHexString(code) + ":" + HexFormat.of().formatHex(digest) + "]";
    }
}
