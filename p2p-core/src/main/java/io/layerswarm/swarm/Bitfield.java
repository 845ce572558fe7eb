package io.layerswarm.swarm;

import java.util.BitSet;

/** Which pieces of a blob a node holds. Immutable, so it can cross threads and be sent as a message. */
public final class Bitfield {
    private final int size;
    private final BitSet bits;

    private Bitfield(int size, BitSet bits) {
        this.size = size;
        this.bits = bits;
    }

    /** No pieces. */
    public static Bitfield empty(int size) {
        return new Bitfield(size, new BitSet(size));
    }

    /** All pieces. */
    public static Bitfield full(int size) {
        BitSet b = new BitSet(size);
        b.set(0, size);
        return new Bitfield(size, b);
    }

    /** The pieces set in {@code bits} (copied; bits past {@code size} are refused). */
    public static Bitfield of(int size, BitSet bits) {
        if (bits.length() > size) {
            throw new IllegalArgumentException("bit " + (bits.length() - 1) + " set past " + size + " pieces");
        }
        return new Bitfield(size, (BitSet) bits.clone());
    }

    /** The pieces held, as a new mutable set. */
    public BitSet toBitSet() {
        return (BitSet) bits.clone();
    }

    /**
     * Decodes the wire form (bit {@code i} is bit {@code 7 - i % 8} of byte {@code i / 8}, as in
     * BitTorrent), rejecting a wrong length or bits set past the end.
     */
    public static Bitfield fromBytes(int size, byte[] bytes) {
        if (bytes.length != (size + 7) / 8) {
            throw new IllegalArgumentException("bitfield for " + size + " pieces must be " + (size + 7) / 8
                    + " bytes, got " + bytes.length);
        }
        BitSet b = new BitSet(size);
        for (int i = 0; i < bytes.length * 8; i++) {
            if ((bytes[i / 8] & (0x80 >>> (i % 8))) != 0) {
                if (i >= size) {
                    throw new IllegalArgumentException("bitfield has bit " + i + " set past " + size + " pieces");
                }
                b.set(i);
            }
        }
        return new Bitfield(size, b);
    }

    /** The wire form. */
    public byte[] toBytes() {
        byte[] out = new byte[(size + 7) / 8];
        for (int i = bits.nextSetBit(0); i >= 0; i = bits.nextSetBit(i + 1)) {
            out[i / 8] |= (byte) (0x80 >>> (i % 8));
        }
        return out;
    }

    /** Number of pieces the blob has. */
    public int size() {
        return size;
    }

    /** Whether piece {@code i} is held. */
    public boolean has(int i) {
        return bits.get(i);
    }

    /** Number of pieces held. */
    public int cardinality() {
        return bits.cardinality();
    }

    /** Whether every piece is held. */
    public boolean isComplete() {
        return bits.cardinality() == size;
    }

    /** A copy with piece {@code i} added. */
    public Bitfield with(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("piece " + i + " of " + size);
        }
        BitSet b = (BitSet) bits.clone();
        b.set(i);
        return new Bitfield(size, b);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bitfield f && f.size == size && f.bits.equals(bits);
    }

    @Override
    public int hashCode() {
        return bits.hashCode() * 31 + size;
    }

    @Override
    public String toString() {
        return cardinality() + "/" + size;
    }
}
