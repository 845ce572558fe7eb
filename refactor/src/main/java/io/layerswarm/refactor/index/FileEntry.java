package io.layerswarm.refactor.index;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a layer says about one path. Paths are normalised: relative, no {@code ./} prefix, no
 * trailing slash. For whiteouts the path is the path being removed (or the opaque directory).
 *
 * @param path normalised path
 * @param type entry kind
 * @param mode permission and special bits (07777)
 * @param uid owner user id
 * @param gid owner group id
 * @param size content bytes (regular files and resolved hard links), 0 otherwise
 * @param sha256 hex sha256 of the content for regular files and resolved hard links, else {@code null}
 * @param linkTarget target of a symlink or hard link, else {@code null}
 * @param devMajor device major number
 * @param devMinor device minor number
 * @param mtime modification time, seconds since the epoch
 * @param xattrs extended attributes from PAX {@code SCHILY.xattr.*} records
 */
public record FileEntry(String path, FileType type, int mode, long uid, long gid, long size, String sha256,
                        String linkTarget, int devMajor, int devMinor, long mtime, Map<String, String> xattrs) {

    /** Validates and copies. */
    public FileEntry {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(type, "type");
        xattrs = xattrs == null || xattrs.isEmpty() ? Map.of() : Map.copyOf(new TreeMap<>(xattrs));
    }

    /**
     * Whether {@code o} describes the same file to a container: everything but the path's mtime.
     * Two entries that agree here can be served from one shared layer without any difference in
     * the unpacked root filesystem (content, type, mode, owner, link target, device, xattrs).
     */
    public boolean sameFileAs(FileEntry o) {
        return type == o.type && mode == o.mode && uid == o.uid && gid == o.gid && size == o.size
                && Objects.equals(sha256, o.sha256) && Objects.equals(linkTarget, o.linkTarget)
                && devMajor == o.devMajor && devMinor == o.devMinor && xattrs.equals(o.xattrs);
    }

    /** A key that is equal for two entries exactly when {@link #sameFileAs} holds and the paths agree. */
    public String identityKey() {
        return path + '\0' + type + '\0' + mode + '\0' + uid + '\0' + gid + '\0' + size + '\0' + sha256
                + '\0' + linkTarget + '\0' + devMajor + '\0' + devMinor + '\0' + xattrs;
    }

    /** Whether this entry carries file content counted as bytes. */
    public boolean hasContent() {
        return type == FileType.REGULAR;
    }

    /** The same entry at another path. */
    public FileEntry withPath(String newPath) {
        return new FileEntry(newPath, type, mode, uid, gid, size, sha256, linkTarget, devMajor, devMinor, mtime, xattrs);
    }

    /** A regular file with this entry's metadata and the given content (used to materialise hard links). */
    public FileEntry asRegular() {
        return new FileEntry(path, FileType.REGULAR, mode, uid, gid, size, sha256, null, 0, 0, mtime, xattrs);
    }

    /** A symlink at this entry's path, keeping owner and mtime. */
    public FileEntry asSymlink(String target) {
        return new FileEntry(path, FileType.SYMLINK, 0777, uid, gid, 0, null, target, 0, 0, mtime, Map.of());
    }
}
