package io.layerswarm.cache.layer;

import io.layerswarm.cache.layer.InvalidLayerException.Kind;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The checks that keep an unpacker inside its root directory: relative paths without {@code ..},
 * parents walked component by component without following symlinks, relative symlink targets that
 * do not climb above the root, and deletion that never follows a symlink. Shared by
 * {@link LayerApplier} and every other writer of untrusted trees (e.g. handoff rounds).
 */
public final class RootGuard {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private final Path root;

    /** @param root the real path (no symlinks) of an existing directory */
    public RootGuard(Path root) {
        this.root = Objects.requireNonNull(root, "root");
    }

    /** The guarded root. */
    public Path root() {
        return root;
    }

    /**
     * Normalises a path to relative form, rejecting absolute paths, {@code ..} and NUL bytes. A
     * leading {@code ./} and repeated or trailing slashes are dropped; the root is {@code ""}.
     *
     * @param what names the entry in the error message
     */
    public static String normalize(String raw, String what) throws InvalidLayerException {
        if (raw.startsWith("/")) {
            throw new InvalidLayerException(Kind.UNSAFE, what + " has an absolute path: " + raw);
        }
        StringBuilder sb = new StringBuilder(raw.length());
        for (String seg : raw.split("/")) {
            if (seg.isEmpty() || seg.equals(".")) {
                continue;
            }
            if (seg.equals("..")) {
                throw new InvalidLayerException(Kind.UNSAFE, what + " path contains '..': " + raw);
            }
            if (seg.indexOf('\0') >= 0) {
                throw new InvalidLayerException(Kind.CORRUPT, what + " path contains a NUL byte");
            }
            if (sb.length() > 0) {
                sb.append('/');
            }
            sb.append(seg);
        }
        return sb.toString();
    }

    /**
     * Rejects a relative symlink target that climbs above the root from the link's directory.
     * Absolute targets are allowed: they are meant relative to the container's root and are never
     * followed by the unpacker.
     *
     * @param parent the link's directory, relative to the root
     * @param path the link's own path, for the message
     */
    public static void checkSymlinkTarget(String parent, String target, String path) throws InvalidLayerException {
        if (target.indexOf('\0') >= 0) {
            throw new InvalidLayerException(Kind.CORRUPT, "symlink " + path + " target contains a NUL byte");
        }
        if (target.startsWith("/")) {
            return;
        }
        Deque<String> stack = new ArrayDeque<>();
        for (String s : parent.split("/")) {
            if (!s.isEmpty()) {
                stack.addLast(s);
            }
        }
        for (String s : target.split("/")) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                if (stack.isEmpty()) {
                    throw new InvalidLayerException(Kind.UNSAFE, "symlink " + path + " -> " + target
                            + " escapes the root");
                }
                stack.removeLast();
            } else {
                stack.addLast(s);
            }
        }
    }

    /**
     * Walks {@code rel} from the root one component at a time without following symlinks.
     * Missing directories are created when {@code create} (each reported to {@code onCreate}),
     * else {@code null} is returned.
     *
     * @throws InvalidLayerException if a component is a symlink (UNSAFE) or not a directory (CORRUPT)
     */
    public Path resolveDir(String rel, boolean create, String what, Consumer<String> onCreate) throws IOException {
        Path cur = root;
        if (rel.isEmpty()) {
            return cur;
        }
        String walked = "";
        for (String seg : rel.split("/")) {
            cur = cur.resolve(seg);
            walked = walked.isEmpty() ? seg : walked + "/" + seg;
            BasicFileAttributes a = lstat(cur);
            if (a == null) {
                if (!create) {
                    return null;
                }
                Files.createDirectory(cur);
                onCreate.accept(walked);
            } else if (a.isSymbolicLink()) {
                throw new InvalidLayerException(Kind.UNSAFE, what + " would be written through symlink "
                        + walked + " (refusing to follow symlinks while unpacking)");
            } else if (!a.isDirectory()) {
                throw new InvalidLayerException(Kind.CORRUPT, what + ": parent " + walked
                        + " is not a directory");
            }
        }
        return cur;
    }

    /** {@code lstat}, or {@code null} if nothing is there. */
    public static BasicFileAttributes lstat(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, NOFOLLOW);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Deletes a file, symlink or directory tree without following symlinks; nothing there is fine. */
    public static void deleteTree(Path p) throws IOException {
        BasicFileAttributes a = lstat(p);
        if (a == null) {
            return;
        }
        if (!a.isDirectory()) {
            Files.delete(p);
            return;
        }
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
