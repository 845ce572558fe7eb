package io.layerswarm.handoff;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scans a directory tree (e.g. a container's upper directory) into a {@link Manifest}. Symlinks are
 * never followed; regular files are hashed; names of one inode after the first (in path order)
 * become {@link EntryType#HARDLINK}s. Only {@code user.*} extended attributes are visible to the JDK
 * and kept. Character devices 0/0 are overlay whiteouts ({@link EntryType#WHITEOUT}); directories with
 * {@code trusted.overlay.opaque=y} are opaque ({@link TreeEntry#opaque()}, read through {@code getfattr},
 * see {@link OverlayOpaque}); other device nodes, fifos and sockets are skipped with a warning.
 */
public final class TreeScanner {
    private static final Logger LOG = LoggerFactory.getLogger(TreeScanner.class);
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final String USER = "user.";

    private TreeScanner() {
    }

    /** Scans everything below {@code root} (an existing directory). */
    public static Manifest scan(Path root) throws IOException {
        return scan(root, Stamps.none()).manifest();
    }

    /**
     * Scans like {@link #scan(Path)}, but takes a regular file's digest from {@code earlier} instead of
     * reading it when its inode, size, mtime and ctime are unchanged and its ctime lies more than
     * {@link #RACY_MARGIN_NANOS} before the earlier scan began: any write since would have moved its
     * ctime past that (a write during the earlier scan too, timestamps being coarse by milliseconds;
     * setting mtime back moves ctime as well).
     */
    public static Scan scan(Path root, Stamps earlier) throws IOException {
        if (!Files.isDirectory(root, NOFOLLOW)) {
            throw new IOException("not a directory: " + root);
        }
        long start = System.currentTimeMillis() * 1_000_000L;
        TreeMap<String, TreeEntry> out = new TreeMap<>();
        Map<String, String> firstNameOfInode = new HashMap<>();
        Map<String, Stamp> stamps = new HashMap<>();
        Set<String> opaque = OverlayOpaque.find(root);
        walk(root, "", out, firstNameOfInode, earlier, stamps, opaque);
        // Path order decides which name of an inode carries the content; the walk order may differ.
        return new Scan(new Manifest(fixHardlinkOrder(out)), new Stamps(start, stamps));
    }

    /** Files whose ctime is this close to (or after) the earlier scan's start are read again. */
    static final long RACY_MARGIN_NANOS = 1_000_000_000L;

    /** A scan's manifest and the stamps a later scan may reuse digests by. */
    public record Scan(Manifest manifest, Stamps stamps) {
    }

    /**
     * What one scan saw of the regular files (by path) and when it began (epoch nanoseconds).
     *
     * @param scanStartNanos wall-clock start of the scan
     * @param files stamp by path
     */
    public record Stamps(long scanStartNanos, Map<String, Stamp> files) {
        /** Copies. */
        public Stamps {
            files = Map.copyOf(files);
        }

        /** No earlier scan: every file is read. */
        public static Stamps none() {
            return new Stamps(0, Map.of());
        }
    }

    /** A regular file as one scan saw it. */
    record Stamp(String inode, long size, long mtimeNanos, long ctimeNanos, String sha256) {
    }

    private static void walk(Path dir, String rel, TreeMap<String, TreeEntry> out, Map<String, String> inodes,
                             Stamps earlier, Map<String, Stamp> stamps, Set<String> opaque) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(children::add);
        }
        for (Path child : children) {
            String path = rel.isEmpty() ? child.getFileName().toString() : rel + "/" + child.getFileName();
            Map<String, Object> a = Files.readAttributes(child, "unix:*", NOFOLLOW);
            int mode = (Integer) a.get("mode");
            int uid = (Integer) a.get("uid");
            int gid = (Integer) a.get("gid");
            long mtime = toNanos((FileTime) a.get("lastModifiedTime"));
            int fmt = mode & 0170000;
            int perm = mode & 07777;
            switch (fmt) {
                case 0040000 -> {
                    out.put(path, new TreeEntry(path, EntryType.DIRECTORY, perm, uid, gid, mtime, 0, "", "",
                            xattrs(child), opaque.contains(path)));
                    walk(child, path, out, inodes, earlier, stamps, opaque);
                }
                // The JDK sets a symlink's own times through lutimes: microseconds.
                case 0120000 -> out.put(path, new TreeEntry(path, EntryType.SYMLINK, perm, uid, gid,
                        mtime - Math.floorMod(mtime, 1000), 0, "",
                        Files.readSymbolicLink(child).toString(), new TreeMap<>()));
                case 0100000 -> {
                    String inode = a.get("dev") + ":" + a.get("ino");
                    int nlink = (Integer) a.get("nlink");
                    String first = nlink > 1 ? inodes.putIfAbsent(inode, path) : null;
                    if (first != null) {
                        out.put(path, new TreeEntry(path, EntryType.HARDLINK, perm, uid, gid, mtime, 0, "", first,
                                new TreeMap<>()));
                    } else {
                        long size = (Long) a.get("size");
                        long ctime = toNanos((FileTime) a.get("ctime"));
                        Stamp was = earlier.files().get(path);
                        String digest = was != null && was.inode().equals(inode) && was.size() == size
                                && was.mtimeNanos() == mtime && was.ctimeNanos() == ctime
                                && ctime < earlier.scanStartNanos() - RACY_MARGIN_NANOS ? was.sha256() : sha256(child);
                        stamps.put(path, new Stamp(inode, size, mtime, ctime, digest));
                        out.put(path, new TreeEntry(path, EntryType.FILE, perm, uid, gid, mtime, size, digest, "",
                                xattrs(child)));
                    }
                }
                case 0020000 -> {
                    if (((Long) a.get("rdev")) == 0) {
                        out.put(path, new TreeEntry(path, EntryType.WHITEOUT, perm, uid, gid, mtime, 0, "", "",
                                new TreeMap<>()));
                    } else {
                        LOG.warn("handoff.scanSkipped path={} reason=\"device node\" rdev={}", path, a.get("rdev"));
                    }
                }
                default -> LOG.warn("handoff.scanSkipped path={} reason=\"special file\" mode={}", path,
                        Integer.toOctalString(mode));
            }
        }
    }

    /** Makes the first name (in path order) of each hard-link group the FILE entry. */
    private static TreeMap<String, TreeEntry> fixHardlinkOrder(TreeMap<String, TreeEntry> in) {
        Map<String, List<TreeEntry>> groups = new HashMap<>();
        for (TreeEntry e : in.values()) {
            if (e.type() == EntryType.HARDLINK) {
                groups.computeIfAbsent(e.linkTarget(), k -> new ArrayList<>()).add(e);
            }
        }
        for (Map.Entry<String, List<TreeEntry>> g : groups.entrySet()) {
            TreeEntry file = in.get(g.getKey());
            String first = g.getKey();
            for (TreeEntry l : g.getValue()) {
                if (l.path().compareTo(first) < 0) {
                    first = l.path();
                }
            }
            List<TreeEntry> names = new ArrayList<>(g.getValue());
            names.add(file);
            for (TreeEntry n : names) {
                if (n.path().equals(first)) {
                    in.put(n.path(), new TreeEntry(n.path(), EntryType.FILE, n.mode(), n.uid(), n.gid(), n.mtimeNanos(),
                            file.size(), file.sha256(), "", file.xattrs()));
                } else {
                    in.put(n.path(), new TreeEntry(n.path(), EntryType.HARDLINK, n.mode(), n.uid(), n.gid(),
                            n.mtimeNanos(), 0, "", first, new TreeMap<>()));
                }
            }
        }
        return in;
    }

    static long toNanos(FileTime t) {
        return t.to(TimeUnit.NANOSECONDS);
    }

    /** The {@code user.*} extended attributes of a file or directory, values as hex. */
    static SortedMap<String, String> xattrs(Path p) throws IOException {
        TreeMap<String, String> out = new TreeMap<>();
        UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class, NOFOLLOW);
        if (v == null) {
            return out;
        }
        List<String> names;
        try {
            names = v.list();
        } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
            return out; // file system without user xattrs
        }
        for (String n : names) {
            ByteBuffer b = ByteBuffer.allocate(v.size(n));
            v.read(n, b);
            b.flip();
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            out.put(USER + n, HexFormat.of().formatHex(bytes));
        }
        return out;
    }

    /** Lowercase hex sha256 of a file's content. */
    static String sha256(Path p) throws IOException {
        MessageDigest md = newDigest();
        try (InputStream in = new DigestInputStream(Files.newInputStream(p, NOFOLLOW), md)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }
}
