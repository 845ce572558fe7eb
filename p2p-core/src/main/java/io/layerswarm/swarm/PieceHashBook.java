package io.layerswarm.swarm;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.BitSet;

/**
 * The piece hashes a download knows so far. When many nodes pull a blob at once nobody holds all of
 * it, so hashes arrive piece by piece from the nodes that fetched each piece from the registry; the
 * blob's OCI digest, checked at the end, remains the root of trust. Owned by the swarm loop.
 */
public final class PieceHashBook {
    private static final int HASH = 32;

    private final PieceLayout layout;
    private final byte[] hashes;
    private final BitSet known;
    private final BitSet disputed;

    /** A book with no hashes known. */
    public PieceHashBook(PieceLayout layout) {
        this.layout = layout;
        this.hashes = new byte[HASH * layout.count()];
        this.known = new BitSet(layout.count());
        this.disputed = new BitSet(layout.count());
    }

    /** A book with every hash known. */
    public static PieceHashBook of(PieceHashes all) {
        PieceHashBook b = new PieceHashBook(all.layout());
        byte[] h = all.toBytes();
        System.arraycopy(h, 0, b.hashes, 0, h.length);
        b.known.set(0, all.layout().count());
        return b;
    }

    /** The layout. */
    public PieceLayout layout() {
        return layout;
    }

    /** Whether piece {@code i}'s hash is known and undisputed. */
    public boolean known(int i) {
        return known.get(i) && !disputed.get(i);
    }

    /** Pieces with known, undisputed hashes. */
    public BitSet knownPieces() {
        BitSet b = (BitSet) known.clone();
        b.andNot(disputed);
        return b;
    }

    /** Whether two sources claimed different hashes for piece {@code i}. */
    public boolean disputed(int i) {
        return disputed.get(i);
    }

    /**
     * Records a claimed hash.
     *
     * @return false if it contradicts an earlier claim (the piece is then disputed and only the
     *     origin may settle it)
     */
    public boolean learn(int i, byte[] hash) {
        if (hash.length != HASH) {
            throw new IllegalArgumentException("piece hash must be 32 bytes, got " + hash.length);
        }
        if (known.get(i)) {
            if (!Arrays.equals(hash, hashOf(i))) {
                disputed.set(i);
                return false;
            }
            return true;
        }
        System.arraycopy(hash, 0, hashes, i * HASH, HASH);
        known.set(i);
        return true;
    }

    /** Settles piece {@code i} with a hash computed from origin bytes. */
    void settle(int i, byte[] hash) {
        System.arraycopy(hash, 0, hashes, i * HASH, HASH);
        known.set(i);
        disputed.clear(i);
    }

    /** The known hash of piece {@code i}. */
    public byte[] hashOf(int i) {
        return Arrays.copyOfRange(hashes, i * HASH, (i + 1) * HASH);
    }

    /** Whether {@code data} matches the known hash of piece {@code i}. */
    public boolean verify(int i, ByteBuffer data) {
        return matches(i, data.remaining(), sha256(data));
    }

    /** Whether {@code length} bytes hashing to {@code sha256} match the known hash of piece {@code i}. */
    public boolean matches(int i, int length, byte[] sha256) {
        return known(i) && length == layout.length(i) && MessageDigest.isEqual(sha256, hashOf(i));
    }

    /** The sha256 of the remaining bytes (position unchanged). */
    public static byte[] sha256(ByteBuffer data) {
        MessageDigest md = io.layerswarm.oci.Digest.Algorithm.SHA256.newMessageDigest();
        md.update(data.duplicate());
        return md.digest();
    }
}
