package io.layerswarm.oci;

import java.util.Objects;

/**
 * The platform an image in an index is built for.
 *
 * @param os operating system, e.g. {@code linux}
 * @param architecture CPU architecture, e.g. {@code amd64}
 * @param variant optional variant, e.g. {@code v8}; may be {@code null}
 */
public record Platform(String os, String architecture, String variant) {

    /** Validates. */
    public Platform {
        Objects.requireNonNull(os, "os");
        Objects.requireNonNull(architecture, "architecture");
    }

    /**
     * Parses {@code os/arch[/variant]}, e.g. {@code linux/arm64/v8}.
     *
     * @throws IllegalArgumentException if the text has not two or three non-empty parts
     */
    public static Platform parse(String text) {
        Objects.requireNonNull(text, "platform");
        String[] parts = text.split("/", -1);
        if (text.length() > 100 || parts.length < 2 || parts.length > 3) {
            throw new IllegalArgumentException("invalid platform '" + (text.length() > 100 ? text.substring(0, 100) + "..." : text)
                    + "': expected os/architecture[/variant], e.g. linux/amd64");
        }
        for (String p : parts) {
            if (!p.matches("[a-zA-Z0-9_.-]+")) {
                throw new IllegalArgumentException("invalid platform '" + text
                        + "': parts must be non-empty letters, digits, '.', '_' or '-'");
            }
        }
        return new Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : null);
    }

    /** linux/amd64, the default this project targets. */
    public static Platform linuxAmd64() {
        return new Platform("linux", "amd64", null);
    }

    @Override
    public String toString() {
        return os + "/" + architecture + (variant == null ? "" : "/" + variant);
    }
}
