package io.layerswarm.libp2p.kad;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

/**
 * A point in the 256-bit Kademlia keyspace: sha256 of a peer id or key, as the libp2p kad-dht spec
 * prescribes. Distance is the XOR of two points, compared as an unsigned big-endian number.
 */
public final class KadId implements Comparable<KadId> {

    /** Bits in the keyspace. */
    public static final int BITS = 256;

    private final byte[] hash;

    private KadId(byte[] hash) {
        this.hash = hash;
    }

    /** The keyspace point of {@code key} (peer id bytes or multihash), i.e. sha256(key). */
    public static KadId of(byte[] key) {
        try {
            return new KadId(MessageDigest.getInstance("SHA-256").digest(key));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("JDK lacks SHA-256", e);
        }
    }

    /** Number of leading bits this point shares with {@code other} (256 if equal). */
    public int commonPrefixLength(KadId other) {
        for (int i = 0; i < hash.length; i++) {
            int x = (hash[i] ^ other.hash[i]) & 0xff;
            if (x != 0) {
                return i * 8 + Integer.numberOfLeadingZeros(x) - 24;
            }
        }
        return BITS;
    }

    /** Compares the distances {@code a^this} and {@code b^this}: negative if a is closer. */
    public int compareDistance(KadId a, KadId b) {
        for (int i = 0; i < hash.length; i++) {
            int da = (a.hash[i] ^ hash[i]) & 0xff;
            int db = (b.hash[i] ^ hash[i]) & 0xff;
            if (da != db) {
                return Integer.compare(da, db);
            }
        }
        return 0;
    }

    /**
     * Finds random key bytes whose keyspace point shares exactly {@code cpl} leading bits with
     * this one, for refreshing the bucket at that prefix length. Costs about 2^cpl hashes, so
     * callers keep {@code cpl} small (go and js cap refresh at 15).
     */
    public byte[] randomKeyWithPrefixLength(int cpl, Random random) {
        if (cpl < 0 || cpl > 20) {
            throw new IllegalArgumentException("cpl out of range for refresh: " + cpl);
        }
        byte[] candidate = new byte[34];
        candidate[0] = 0x12; // looks like a sha2-256 multihash, as a peer id would
        candidate[1] = 0x20;
        byte[] body = new byte[32];
        while (true) {
            random.nextBytes(body);
            System.arraycopy(body, 0, candidate, 2, 32);
            if (commonPrefixLength(of(candidate)) == cpl) {
                return candidate.clone();
            }
        }
    }

    @Override
    public int compareTo(KadId o) {
        return Arrays.compareUnsigned(hash, o.hash);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KadId k && Arrays.equals(hash, k.hash);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(hash);
    }

    @Override
    public String toString() {
        return "KadId[" + HexFormat.of().formatHex(hash, 0, 6) + "…]";
    }
}
