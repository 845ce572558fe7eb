package io.layerswarm.handoff;

import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One entry of a scanned tree.
 *
 * @param path relative path, {@code /}-separated, never empty, no {@code ..}
 * @param type entry kind
 * @param mode permission bits incl. setuid/setgid/sticky (07777)
 * @param uid owner
 * @param gid group
 * @param mtimeNanos modification time, nanoseconds since the epoch
 * @param size bytes of a FILE, else 0
 * @param sha256 lowercase hex digest of a FILE's content, else {@code ""}
 * @param linkTarget symlink target, or the path a HARDLINK shares its inode with, else {@code ""}
 * @param xattrs extended attributes by full name (e.g. {@code user.origin}), values as lowercase hex
 * @param opaque a DIRECTORY that is an overlay opaque directory ({@code trusted.overlay.opaque=y}: it
 *               replaces the image's directory at its path, whose contents are hidden); false otherwise
 */
public record TreeEntry(String path, EntryType type, int mode, int uid, int gid, long mtimeNanos, long size,
                        String sha256, String linkTarget, SortedMap<String, String> xattrs, boolean opaque) {
    /** Validates and copies the xattrs. */
    public TreeEntry {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(linkTarget, "linkTarget");
        if (opaque && type != EntryType.DIRECTORY) {
            throw new IllegalArgumentException("only a directory can be opaque: " + path);
        }
        xattrs = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(xattrs == null ? Map.of() : xattrs));
    }

    /** An entry that is not an opaque directory. */
    public TreeEntry(String path, EntryType type, int mode, int uid, int gid, long mtimeNanos, long size,
                     String sha256, String linkTarget, SortedMap<String, String> xattrs) {
        this(path, type, mode, uid, gid, mtimeNanos, size, sha256, linkTarget, xattrs, false);
    }

    /** The directory holding this entry, {@code ""} for the root. */
    public String parent() {
        int i = path.lastIndexOf('/');
        return i < 0 ? "" : path.substring(0, i);
    }

    /** The last path component. */
    public String name() {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
