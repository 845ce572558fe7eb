package io.layerswarm.handoff;

/** Kinds of filesystem entries a handoff round carries. */
public enum EntryType {
    /** A directory. */
    DIRECTORY,
    /** A regular file (the first path, in path order, of a hard-link group). */
    FILE,
    /** A symbolic link. */
    SYMLINK,
    /** Another name of a regular file listed earlier in path order ({@link TreeEntry#linkTarget()}). */
    HARDLINK,
    /**
     * An overlay whiteout: hides the image's file or directory at this path (a character device 0/0 in
     * an overlay upper directory, as overlayfs writes it when the container deletes an image file).
     */
    WHITEOUT
}
