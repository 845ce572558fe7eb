package io.layerswarm.libp2p.multiformats;

import java.util.Arrays;

/**
 * Base58 with the bitcoin alphabet (multibase {@code base58btc}). Quadratic in the input length, so
 * callers bound inputs; {@link #MAX_ENCODED_LENGTH} is enforced on decode.
 */
public final class Base58 {

    /** Longest text accepted by {@link #decode}: ample for multihashes and CIDs. */
    public static final int MAX_ENCODED_LENGTH = 1024;

    private static final char[] ALPHABET =
            "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".toCharArray();
    private static final int[] INDEX = new int[128];

    static {
        Arrays.fill(INDEX, -1);
        for (int i = 0; i < ALPHABET.length; i++) {
            INDEX[ALPHABET[i]] = i;
        }
    }

    private Base58() {
    }

    /** Encodes bytes as base58btc text (no multibase prefix). */
    public static String encode(byte[] input) {
        if (input.length == 0) {
            return "";
        }
        int zeros = 0;
        while (zeros < input.length && input[zeros] == 0) {
            zeros++;
        }
        byte[] num = Arrays.copyOf(input, input.length);
        char[] out = new char[input.length * 2];
        int outStart = out.length;
        int start = zeros;
        while (start < num.length) {
            int rem = 0;
            for (int i = start; i < num.length; i++) {
                int acc = (rem << 8) | (num[i] & 0xFF);
                num[i] = (byte) (acc / 58);
                rem = acc % 58;
            }
            out[--outStart] = ALPHABET[rem];
            while (start < num.length && num[start] == 0) {
                start++;
            }
        }
        for (int i = 0; i < zeros; i++) {
            out[--outStart] = ALPHABET[0];
        }
        return new String(out, outStart, out.length - outStart);
    }

    /**
     * Decodes base58btc text.
     *
     * @throws IllegalArgumentException on characters outside the alphabet or overlong input
     */
    public static byte[] decode(String text) {
        if (text.length() > MAX_ENCODED_LENGTH) {
            throw new IllegalArgumentException("base58 text too long: " + text.length() + " chars (max "
                    + MAX_ENCODED_LENGTH + ")");
        }
        if (text.isEmpty()) {
            return new byte[0];
        }
        byte[] digits = new byte[text.length()];
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            int d = c < 128 ? INDEX[c] : -1;
            if (d < 0) {
                throw new IllegalArgumentException("invalid base58 character at index " + i);
            }
            digits[i] = (byte) d;
        }
        int zeros = 0;
        while (zeros < digits.length && digits[zeros] == 0) {
            zeros++;
        }
        byte[] out = new byte[text.length()];
        int outStart = out.length;
        int start = zeros;
        while (start < digits.length) {
            int rem = 0;
            for (int i = start; i < digits.length; i++) {
                int acc = rem * 58 + (digits[i] & 0xFF);
                digits[i] = (byte) (acc / 256);
                rem = acc % 256;
            }
            out[--outStart] = (byte) rem;
            while (start < digits.length && digits[start] == 0) {
                start++;
            }
        }
        while (outStart < out.length && out[outStart] == 0) {
            outStart++;
        }
        byte[] result = new byte[zeros + out.length - outStart];
        System.arraycopy(out, outStart, result, zeros, out.length - outStart);
        return result;
    }
}
