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

    /** linux/amd64, the default this project targets. */
    public static Platform linuxAmd64() {
        return new Platform("linux", "amd64", null);
    }

    @Override
    public String toString() {
        return os + "/" + architecture + (variant == null ? "" : "/" + variant);
    }
}
