package io.layerswarm.oci;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * An OCI content digest such as {@code sha256:9f86d0...}. Only sha256 and sha512 are accepted;
 * anything else is rejected with {@link IllegalArgumentException} because an unverifiable digest
 * must never become a cache key.
 *
 * @param algorithm the digest algorithm
 * @param hex the lower-case hex encoding of the hash
 */
public record Digest(Algorithm algorithm, String hex) implements Comparable<Digest> {

    /** Digest algorithms registered by the OCI image spec. */
    public enum Algorithm {
        /** SHA-256, 64 hex characters. */
        SHA256("sha256", "SHA-256", 64),
        /** SHA-512, 128 hex characters. */
        SHA512("sha512", "SHA-512", 128);

        private final String label;
        private final String jcaName;
        private final int hexLength;

        Algorithm(String label, String jcaName, int hexLength) {
            this.label = label;
            this.jcaName = jcaName;
            this.hexLength = hexLength;
        }

        /** The name used in digest strings, e.g. {@code sha256}. */
        public String label() {
            return label;
        }

        /** Length of the hex encoding. */
        public int hexLength() {
            return hexLength;
        }

        /** A fresh {@link MessageDigest} for this algorithm. */
        public MessageDigest newMessageDigest() {
            try {
                return MessageDigest.getInstance(jcaName);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("JDK lacks " + jcaName, e);
            }
        }

        static Algorithm fromLabel(String label) {
            for (Algorithm a : values()) {
                if (a.label.equals(label)) {
                    return a;
                }
            }
            throw new IllegalArgumentException("unsupported digest algorithm '" + label
                    + "' (supported: sha256, sha512)");
        }
    }

    /** Validates the components. */
    public Digest {
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(hex, "hex");
        if (hex.length() != algorithm.hexLength) {
            throw new IllegalArgumentException("invalid " + algorithm.label + " digest: expected "
                    + algorithm.hexLength + " hex characters, got " + hex.length());
        }
        for (int i = 0; i < hex.length(); i++) {
            char c = hex.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                throw new IllegalArgumentException("invalid " + algorithm.label
                        + " digest: character " + i + " is not lower-case hex");
            }
        }
    }

    /**
     * Parses {@code algorithm:hex}.
     *
     * @throws IllegalArgumentException if the text is not a supported, well-formed digest
     */
    public static Digest parse(String text) {
        Objects.requireNonNull(text, "digest");
        if (text.length() > 200) {
            throw new IllegalArgumentException("invalid digest: too long (" + text.length() + " chars)");
        }
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("invalid digest '" + text + "': expected algorithm:hex");
        }
        return new Digest(Algorithm.fromLabel(text.substring(0, colon)), text.substring(colon + 1));
    }

    /** The sha256 digest of {@code data}. */
    public static Digest sha256(byte[] data) {
        return of(Algorithm.SHA256, data);
    }

    /** The digest of {@code data} under {@code algorithm}. */
    public static Digest of(Algorithm algorithm, byte[] data) {
        return fromHash(algorithm, algorithm.newMessageDigest().digest(data));
    }

    /** Wraps a finished hash. */
    public static Digest fromHash(Algorithm algorithm, byte[] hash) {
        return new Digest(algorithm, HexFormat.of().formatHex(hash));
    }

    /** The raw hash bytes. */
    public byte[] hashBytes() {
        return HexFormat.of().parseHex(hex);
    }

    /** A fresh {@link MessageDigest} for this digest's algorithm. */
    public MessageDigest newMessageDigest() {
        return algorithm.newMessageDigest();
    }

    /** Whether a finished hash equals this digest. */
    public boolean matches(byte[] hash) {
        return MessageDigest.isEqual(hashBytes(), hash);
    }

    /** First {@code n} hex characters, for logs. */
    public String shortHex(int n) {
        return hex.substring(0, Math.min(n, hex.length()));
    }

    @Override
    public int compareTo(Digest o) {
        int c = algorithm.compareTo(o.algorithm);
        return c != 0 ? c : hex.compareTo(o.hex);
    }

    /** The canonical {@code algorithm:hex} form. */
    @Override
    public String toString() {
        return algorithm.label + ":" + hex;
    }

}
