package io.layerswarm.cache.layer;

import java.nio.file.attribute.FileTime;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One entry of a layer tar, as reported by {@link TarWalker}.
 *
 * @param path normalised relative path: no leading {@code ./} or {@code /}, no {@code .} or
 *             {@code ..} segments, no trailing slash; {@code ""} is the root directory itself
 * @param type the entry type
 * @param mode permission bits including setuid/setgid/sticky ({@code 07777})
 * @param uid owner user id
 * @param gid owner group id
 * @param size content size in bytes (0 for anything but regular files)
 * @param linkTarget symlink target as written in the tar, or the normalised path a hard link points
 *                   to; {@code null} for other types
 * @param mtime modification time
 * @param devMajor device major number (devices only)
 * @param devMinor device minor number (devices only)
 * @param xattrs extended attributes from PAX {@code SCHILY.xattr.<name>} records, keyed by
 *               {@code <name>} (e.g. {@code security.capability}); values as decoded by the tar reader
 */
public record TarEntry(String path, Type type, int mode, long uid, long gid, long size, String linkTarget,
                       FileTime mtime, int devMajor, int devMinor, Map<String, String> xattrs) {

    /** Entry types. */
    public enum Type {
        /** Regular file. */
        FILE,
        /** Directory. */
        DIRECTORY,
        /** Symbolic link. */
        SYMLINK,
        /** Hard link to an earlier entry (or a file of a lower layer). */
        HARDLINK,
        /** Character device. */
        CHAR_DEVICE,
        /** Block device. */
        BLOCK_DEVICE,
        /** Named pipe. */
        FIFO,
        /** Anything else (e.g. vendor extensions); has no meaning for a root filesystem. */
        OTHER
    }

    /** Validates. */
    public TarEntry {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(mtime, "mtime");
        xattrs = xattrs == null || xattrs.isEmpty() ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(xattrs));
    }

    /** An entry without extended attributes. */
    public TarEntry(String path, Type type, int mode, long uid, long gid, long size, String linkTarget,
                    FileTime mtime, int devMajor, int devMinor) {
        this(path, type, mode, uid, gid, size, linkTarget, mtime, devMajor, devMinor, Map.of());
    }

    /** The last path segment ({@code ""} for the root). */
    public String name() {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** The parent path ({@code ""} for top-level entries and the root). */
    public String parent() {
        int i = path.lastIndexOf('/');
        return i < 0 ? "" : path.substring(0, i);
    }
}
