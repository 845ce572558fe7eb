package io.layerswarm.cache;

import java.math.BigDecimal;
import java.util.Locale;

/**
 * Parses byte sizes written as plain bytes ({@code 1048576}), SI units ({@code 500MB} = 500*10^6)
 * or IEC units ({@code 1GiB} = 2^30), optionally with a space and a fraction ({@code 1.5 GB}).
 */
public final class ByteSize {
    private static final int MAX_TEXT = 64;

    private ByteSize() {
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException with the offending text when it is not a size, is negative
     *     or does not fit in a {@code long}
     */
    public static long parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty size");
        }
        if (text.length() > MAX_TEXT) {
            throw new IllegalArgumentException("size text too long (" + text.length() + " chars)");
        }
        String t = text.trim();
        int i = 0;
        while (i < t.length() && (Character.isDigit(t.charAt(i)) || t.charAt(i) == '.')) {
            i++;
        }
        if (i == 0) {
            throw new IllegalArgumentException("invalid size '" + text + "': expected a number, e.g. 500MB, 1GiB or 1048576");
        }
        String unit = t.substring(i).trim().toUpperCase(Locale.ROOT);
        long multiplier = switch (unit) {
            case "", "B" -> 1L;
            case "K", "KB" -> 1_000L;
            case "M", "MB" -> 1_000_000L;
            case "G", "GB" -> 1_000_000_000L;
            case "T", "TB" -> 1_000_000_000_000L;
            case "KIB" -> 1L << 10;
            case "MIB" -> 1L << 20;
            case "GIB" -> 1L << 30;
            case "TIB" -> 1L << 40;
            default -> throw new IllegalArgumentException("invalid size '" + text + "': unknown unit '"
                    + t.substring(i).trim() + "' (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
        };
        BigDecimal value;
        try {
            value = new BigDecimal(t.substring(0, i)).multiply(BigDecimal.valueOf(multiplier));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid size '" + text + "': bad number", e);
        }
        try {
            return value.setScale(0, java.math.RoundingMode.CEILING).longValueExact();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("invalid size '" + text + "': too large", e);
        }
    }

    /** A short human form, e.g. {@code 500MB} or {@code 1.5GB} (SI units). */
    public static String format(long bytes) {
        String[] units = {"B", "KB", "MB", "GB", "TB"};
        double v = bytes;
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        if (v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%d%s", (long) v, units[u]);
        }
        return String.format(Locale.ROOT, "%.2f%s", v, units[u]);
    }
}
