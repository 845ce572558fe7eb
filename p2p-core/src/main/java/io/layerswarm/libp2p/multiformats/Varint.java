package io.layerswarm.libp2p.multiformats;

import io.netty.buffer.ByteBuf;

/**
 * Unsigned varint as specified by multiformats/unsigned-varint: little-endian base-128, at most
 * {@value #MAX_BYTES} bytes (63 bits), and minimal — a trailing zero byte in a multi-byte varint is
 * rejected because the spec forbids non-canonical encodings (they would let two byte strings name
 * the same thing).
 */
public final class Varint {

    /** Largest encoding the spec allows. */
    public static final int MAX_BYTES = 9;

    private Varint() {
    }

    /** Number of bytes {@code value} takes. */
    public static int encodedLength(long value) {
        checkValue(value);
        int n = 1;
        while ((value >>>= 7) != 0) {
            n++;
        }
        return n;
    }

    /** Encodes a non-negative value. */
    public static byte[] encode(long value) {
        byte[] out = new byte[encodedLength(value)];
        write(value, out, 0);
        return out;
    }

    /** Writes {@code value} at {@code offset}; returns the number of bytes written. */
    public static int write(long value, byte[] out, int offset) {
        checkValue(value);
        int i = offset;
        while ((value & ~0x7FL) != 0) {
            out[i++] = (byte) ((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out[i++] = (byte) value;
        return i - offset;
    }

    /** Appends {@code value} to a Netty buffer. */
    public static void write(long value, ByteBuf out) {
        checkValue(value);
        while ((value & ~0x7FL) != 0) {
            out.writeByte((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.writeByte((int) value);
    }

    /** A decoded value and how many bytes it occupied. */
    public record Decoded(long value, int length) {
    }

    /**
     * Decodes a complete varint from {@code in[offset..limit)}.
     *
     * @throws IllegalArgumentException if truncated, longer than 9 bytes or non-minimal
     */
    public static Decoded decode(byte[] in, int offset, int limit) {
        long value = 0;
        for (int i = 0; i < MAX_BYTES; i++) {
            if (offset + i >= limit) {
                throw new IllegalArgumentException("truncated varint after " + i + " bytes");
            }
            int b = in[offset + i] & 0xFF;
            value |= (long) (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                if (b == 0 && i > 0) {
                    throw new IllegalArgumentException("non-minimal varint encoding");
                }
                return new Decoded(value, i + 1);
            }
        }
        throw new IllegalArgumentException("varint longer than " + MAX_BYTES + " bytes");
    }

    /** Decodes a varint that must fill {@code in} exactly. */
    public static long decodeExact(byte[] in) {
        Decoded d = decode(in, 0, in.length);
        if (d.length() != in.length) {
            throw new IllegalArgumentException("trailing bytes after varint");
        }
        return d.value();
    }

    /**
     * Reads a varint from a buffer if it is complete. On success the reader index moves past it and
     * the value is returned; if more bytes are needed, returns -1 and leaves the buffer untouched.
     *
     * @throws IllegalArgumentException if the bytes present can never form a valid varint
     */
    public static long tryRead(ByteBuf buf) {
        int start = buf.readerIndex();
        int available = buf.readableBytes();
        long value = 0;
        for (int i = 0; i < MAX_BYTES; i++) {
            if (i >= available) {
                return -1;
            }
            int b = buf.getUnsignedByte(start + i);
            value |= (long) (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                if (b == 0 && i > 0) {
                    throw new IllegalArgumentException("non-minimal varint encoding");
                }
                buf.readerIndex(start + i + 1);
                return value;
            }
        }
        throw new IllegalArgumentException("varint longer than " + MAX_BYTES + " bytes");
    }

    private static void checkValue(long value) {
        if (value < 0) {
            throw new IllegalArgumentException("varint value must be 0..2^63-1, got " + value);
        }
    }
}
