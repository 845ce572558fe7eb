package io.layerswarm.refactor.plan;

/** How shared files are laid out in refactored images. */
public enum Mode {
    /** Shared files stay at their original paths: the unpacked root filesystem is unchanged. */
    PATH,
    /**
     * The research layout, for comparison: duplicated contents move to {@code /.layerswarm-shared/<sha256>}
     * and their original paths become symlinks. Changes the root filesystem (symlinks, one mode per content).
     */
    SYMLINK
}
