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
    HARDLINK
}
