package io.layerswarm.refactor.plan;

import java.util.Objects;

/**
 * Knobs of the shared-layer planner.
 *
 * @param mode layout of shared files
 * @param minFileSize files (and symlinks, counted as 0 bytes) smaller than this stay in their image's own layer
 * @param maxLayers maximum layers per refactored image (shared layers + 1 unique layer); at least 1
 */
public record PlanOptions(Mode mode, long minFileSize, int maxLayers) {
    /** Defaults: path mode, share everything, at most 100 layers (overlayfs allows ~128). */
    public static final PlanOptions DEFAULT = new PlanOptions(Mode.PATH, 0, 100);

    /** Validates. */
    public PlanOptions {
        Objects.requireNonNull(mode, "mode");
        if (minFileSize < 0) {
            throw new IllegalArgumentException("minFileSize must not be negative: " + minFileSize);
        }
        if (maxLayers < 1) {
            throw new IllegalArgumentException("maxLayers must be at least 1: " + maxLayers);
        }
    }
}
