package io.layerswarm.cache.layer;

import java.util.Objects;

/**
 * How {@link LayerApplier} unpacks a layer.
 *
 * @param limits resource limits for reading the layer
 * @param preserveOwnership set uid/gid from the layer (requires root; otherwise files belong to
 *                          the current user)
 * @param allowSpecialFiles create device nodes and fifos (via {@code mknod}); when false they are
 *                          skipped with a warning
 */
public record ApplyOptions(TarLimits limits, boolean preserveOwnership, boolean allowSpecialFiles) {

    /** Validates. */
    public ApplyOptions {
        Objects.requireNonNull(limits, "limits");
    }

    /** Default limits, ownership preserved only when running as root, no special files. */
    public static ApplyOptions defaults() {
        return new ApplyOptions(TarLimits.defaults(), runningAsRoot(), false);
    }

    /** A copy with other limits. */
    public ApplyOptions withLimits(TarLimits l) {
        return new ApplyOptions(l, preserveOwnership, allowSpecialFiles);
    }

    /** A copy that creates (or skips) device nodes and fifos. */
    public ApplyOptions withSpecialFiles(boolean allow) {
        return new ApplyOptions(limits, preserveOwnership, allow);
    }

    /** Whether this process runs with uid 0. */
    public static boolean runningAsRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }
}
