package io.layerswarm.libp2p.multiformats;

import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/**
 * Multibase: a one-character prefix naming the text encoding. Supports base58btc ({@code z}),
 * base32 lower/upper without padding ({@code b}/{@code B}) and base16 lower ({@code f}).
 */
public final class Multibase {

    /** Longest multibase text accepted by {@link #decode}. */
    public static final int MAX_TEXT_LENGTH = 4096;

    /** Supported encodings. */
    public enum Base {
        /** base58 bitcoin alphabet, prefix {@code z}. */
        BASE58BTC('z'),
        /** RFC 4648 base32, lower case, no padding, prefix {@code b}. */
        BASE32('b'),
        /** RFC 4648 base32, upper case, no padding, prefix {@code B}. */
        BASE32_UPPER('B'),
        /** hexadecimal, lower case, prefix {@code f}. */
        BASE16('f');

        private final char prefix;

        Base(char prefix) {
            this.prefix = prefix;
        }

        /** The multibase prefix character. */
        public char prefix() {
            return prefix;
        }
    }

    private static final String B32 = "abcdefghijklmnopqrstuvwxyz234567";

    private Multibase() {
    }

    /** Encodes with the prefix of {@code base}. */
    public static String encode(Base base, byte[] data) {
        Objects.requireNonNull(base, "base");
        return switch (base) {
            case BASE58BTC -> "z" + Base58.encode(data);
            case BASE32 -> "b" + base32(data);
            case BASE32_UPPER -> "B" + base32(data).toUpperCase(Locale.ROOT);
            case BASE16 -> "f" + HexFormat.of().formatHex(data);
        };
    }

    /** The base named by the first character of {@code text}. */
    public static Base baseOf(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("empty multibase string");
        }
        char p = text.charAt(0);
        for (Base b : Base.values()) {
            if (b.prefix == p) {
                return b;
            }
        }
        throw new IllegalArgumentException("unsupported multibase prefix '" + p
                + "' (supported: z base58btc, b/B base32, f base16)");
    }

    /**
     * Decodes prefixed text.
     *
     * @throws IllegalArgumentException if the prefix is unknown or the body malformed
     */
    public static byte[] decode(String text) {
        Base base = baseOf(text);
        if (text.length() > MAX_TEXT_LENGTH) {
            throw new IllegalArgumentException("multibase text too long: " + text.length() + " chars");
        }
        String body = text.substring(1);
        return switch (base) {
            case BASE58BTC -> Base58.decode(body);
            case BASE32 -> decodeBase32(body, false);
            case BASE32_UPPER -> decodeBase32(body, true);
            case BASE16 -> decodeHex(body);
        };
    }

    static String base32(byte[] data) {
        StringBuilder sb = new StringBuilder((data.length * 8 + 4) / 5);
        int buffer = 0;
        int bits = 0;
        for (byte b : data) {
            buffer = (buffer << 8) | (b & 0xFF);
            bits += 8;
            while (bits >= 5) {
                sb.append(B32.charAt((buffer >>> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        if (bits > 0) {
            sb.append(B32.charAt((buffer << (5 - bits)) & 31));
        }
        return sb.toString();
    }

    static byte[] decodeBase32(String body, boolean upper) {
        int rem = body.length() % 8;
        if (rem == 1 || rem == 3 || rem == 6) {
            throw new IllegalArgumentException("invalid base32 length " + body.length());
        }
        byte[] out = new byte[body.length() * 5 / 8];
        int buffer = 0;
        int bits = 0;
        int o = 0;
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            char lc = upper ? Character.toLowerCase(c) : c;
            if (upper && c != Character.toUpperCase(c)) {
                lc = '!';
            }
            int v = B32.indexOf(lc);
            if (v < 0) {
                throw new IllegalArgumentException("invalid base32 character at index " + i);
            }
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8) {
                out[o++] = (byte) (buffer >>> (bits - 8));
                bits -= 8;
            }
        }
        if ((buffer & ((1 << bits) - 1)) != 0) {
            throw new IllegalArgumentException("invalid base32: non-zero trailing bits");
        }
        return out;
    }

    private static byte[] decodeHex(String body) {
        if (body.length() % 2 != 0) {
            throw new IllegalArgumentException("invalid base16 length " + body.length());
        }
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                throw new IllegalArgumentException("invalid base16 character at index " + i);
            }
        }
        return HexFormat.of().parseHex(body);
    }
}
