package io.layerswarm.refactor.index;

/** Kinds of entries a layer tar can hold, including the OCI whiteout markers. */
public enum FileType {
    /** Regular file with content. */
    REGULAR,
    /** Directory. */
    DIRECTORY,
    /** Symbolic link. */
    SYMLINK,
    /** Hard link to another path of the same root filesystem. */
    HARDLINK,
    /** Character device. */
    CHAR_DEVICE,
    /** Block device. */
    BLOCK_DEVICE,
    /** Named pipe. */
    FIFO,
    /** {@code .wh.<name>}: removes {@code <name>} of lower layers. */
    WHITEOUT,
    /** {@code .wh..wh..opq}: hides every lower-layer child of its directory. */
    OPAQUE
}
