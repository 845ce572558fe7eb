package io.layerswarm.cache.layer;

import io.layerswarm.cache.layer.InvalidLayerException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies an OCI layer (tar, tar+gzip or tar+zstd) onto a root filesystem directory, honouring OCI
 * whiteouts ({@code .wh.<name>} deletes a lower entry, {@code .wh..wh..opq} hides all lower content
 * of its directory).
 *
 * <p>Safety: nothing is ever written outside {@code root}. Paths with {@code ..} or a leading
 * {@code /} are rejected, parents are resolved component by component without following symlinks
 * (an entry whose parent is a symlink, e.g. {@code a -> /etc} then {@code a/passwd}, is rejected),
 * existing files are replaced rather than written through, relative symlinks that climb above the
 * root and hard links outside it are rejected. Absolute symlink targets are kept as they are: they
 * are meant relative to the container's root and are never followed here. Limits of
 * {@link TarLimits} bound memory, disk and time. On any {@link InvalidLayerException} the root may
 * hold part of the layer and should be discarded.
 */
public final class LayerApplier {
    private static final Logger LOG = LoggerFactory.getLogger(LayerApplier.class);
    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private final ApplyOptions options;

    /** An applier with the given options. */
    public LayerApplier(ApplyOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    /** An applier with {@link ApplyOptions#defaults()}. */
    public LayerApplier() {
        this(ApplyOptions.defaults());
    }

    /**
     * Applies one layer onto {@code root} (which must be an existing directory).
     *
     * @param layer the layer blob; closed when done
     * @param mediaType its media type if known, else {@code null} (compression is detected)
     * @return what was done
     * @throws InvalidLayerException if the layer is corrupt, hostile or over a limit
     */
    public ApplyStats apply(InputStream layer, String mediaType, Path root) throws IOException {
        Objects.requireNonNull(root, "root");
        if (!Files.isDirectory(root, NOFOLLOW)) {
            layer.close();
            throw new NoSuchFileException(root.toString(), null, "layer root must be an existing directory");
        }
        try (TarWalker walker = TarWalker.open(layer, mediaType, options.limits())) {
            Run run = new Run(root.toRealPath(), walker);
            run.applyAll();
            ApplyStats stats = run.stats();
            LOG.debug("layer.applied root={} entries={} files={} bytes={} skipped={}", root,
                    stats.entries(), stats.files(), stats.bytes(), stats.skipped());
            return stats;
        }
    }

    /** State of one application. */
    private final class Run {
        private final Path root;
        private final RootGuard guard;
        private final TarWalker walker;
        /** Paths created by this layer, and all their ancestors. */
        private final Set<String> ours = new HashSet<>();
        /** Directory attributes applied at the end, so later children and restrictive modes don't clash. */
        private final Map<String, TarEntry> dirAttrs = new LinkedHashMap<>();
        private final byte[] buf = new byte[64 * 1024];
        private long entries;
        private long files;
        private long dirs;
        private long symlinks;
        private long hardlinks;
        private long whiteouts;
        private long bytes;
        private long skipped;

        Run(Path root, TarWalker walker) {
            this.root = root;
            this.guard = new RootGuard(root);
            this.walker = walker;
        }

        ApplyStats stats() {
            return new ApplyStats(entries, files, dirs, symlinks, hardlinks, whiteouts, bytes, skipped);
        }

        void applyAll() throws IOException {
            for (TarEntry e; (e = walker.next()) != null; ) {
                entries++;
                apply(e);
            }
            for (TarEntry d : dirAttrs.values()) {
                Path p = root.resolve(d.path());
                if (Files.isDirectory(p, NOFOLLOW) && !Files.isSymbolicLink(p)) {
                    setAttributes(p, d, true);
                }
            }
        }

        private void apply(TarEntry e) throws IOException {
            String name = e.name();
            if (name.startsWith(WHITEOUT)) {
                whiteout(e);
                return;
            }
            if (e.path().isEmpty()) {
                dirs++; // the root itself: its attributes belong to whoever made the root
                return;
            }
            switch (e.type()) {
                case DIRECTORY -> directory(e);
                case FILE -> file(e);
                case SYMLINK -> symlink(e);
                case HARDLINK -> hardlink(e);
                case CHAR_DEVICE, BLOCK_DEVICE, FIFO -> special(e);
                default -> skip(e, "unsupported entry type");
            }
        }

        private void directory(TarEntry e) throws IOException {
            Path p = prepare(e);
            if (!Files.isDirectory(p, NOFOLLOW)) {
                Files.createDirectory(p);
            }
            dirAttrs.put(e.path(), e);
            dirs++;
        }

        private void file(TarEntry e) throws IOException {
            Path p = prepare(e);
            long n = 0;
            try (OutputStream out = Files.newOutputStream(p, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, NOFOLLOW)) {
                InputStream in = walker.content();
                int r;
                while ((r = in.read(buf)) != -1) {
                    out.write(buf, 0, r);
                    n += r;
                }
            }
            if (n != e.size()) {
                throw new InvalidLayerException(Kind.CORRUPT, "entry " + e.path() + " declared "
                        + e.size() + " bytes but had " + n);
            }
            setAttributes(p, e, false);
            files++;
            bytes += n;
        }

        private void symlink(TarEntry e) throws IOException {
            String target = e.linkTarget();
            RootGuard.checkSymlinkTarget(e.parent(), target, e.path());
            Path p = prepare(e);
            Files.createSymbolicLink(p, p.getFileSystem().getPath(target));
            setAttributes(p, e, false);
            symlinks++;
        }

        private void hardlink(TarEntry e) throws IOException {
            String target = e.linkTarget();
            int slash = target.lastIndexOf('/');
            Path sourceDir = resolve(slash < 0 ? "" : target.substring(0, slash), false,
                    "hard link target of " + e.path());
            Path source = sourceDir == null ? null : sourceDir.resolve(target.substring(slash + 1));
            BasicFileAttributes a = source == null ? null : lstat(source);
            if (a == null) {
                throw new InvalidLayerException(Kind.CORRUPT, "hard link " + e.path() + " points at "
                        + e.linkTarget() + ", which does not exist");
            }
            if (!a.isRegularFile()) {
                throw new InvalidLayerException(Kind.UNSAFE, "hard link " + e.path() + " points at "
                        + e.linkTarget() + ", which is not a regular file");
            }
            if (e.linkTarget().equals(e.path())) {
                return; // linking a file to itself: nothing to do
            }
            Path p = prepare(e);
            Files.createLink(p, source);
            hardlinks++;
        }

        private void special(TarEntry e) throws IOException {
            if (!options.allowSpecialFiles()) {
                skip(e, "special file (" + e.type() + ") not allowed by options");
                return;
            }
            Path p = prepare(e);
            String kind = switch (e.type()) {
                case CHAR_DEVICE -> "c";
                case BLOCK_DEVICE -> "b";
                default -> "p";
            };
            // Mode goes through mknod: opening a fifo or device to chmod it could block or have effects.
            String mode = Integer.toOctalString(e.mode() & (options.preserveOwnership() ? 07777 : 0777));
            ProcessBuilder pb = kind.equals("p")
                    ? new ProcessBuilder("mknod", "-m", mode, p.toString(), "p")
                    : new ProcessBuilder("mknod", "-m", mode, p.toString(), kind, Integer.toString(e.devMajor()),
                    Integer.toString(e.devMinor()));
            pb.redirectErrorStream(true);
            Process proc = pb.start();
            String out = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            try {
                if (!proc.waitFor(30, TimeUnit.SECONDS) || proc.exitValue() != 0) {
                    proc.destroyForcibly();
                    throw new IOException("mknod failed for " + e.path() + ": " + out.trim());
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                proc.destroyForcibly();
                throw new java.io.InterruptedIOException("interrupted creating " + e.path());
            }
            if (options.preserveOwnership()) {
                setOwner(p, e);
            }
            files++;
        }

        private void skip(TarEntry e, String why) {
            LOG.warn("layer.entrySkipped path={} type={} reason=\"{}\"", e.path(), e.type(), why);
            skipped++;
        }

        private void whiteout(TarEntry e) throws IOException {
            String name = e.name();
            if (name.equals(OPAQUE)) {
                Path dir = resolve(e.parent(), true, "opaque directory " + e.parent());
                markOurs(e.parent());
                clearLower(e.parent(), dir);
                whiteouts++;
                return;
            }
            if (name.startsWith(WHITEOUT + WHITEOUT)) {
                skip(e, "unknown whiteout meta file");
                return;
            }
            String victim = name.substring(WHITEOUT.length());
            if (victim.isEmpty() || victim.equals(".") || victim.equals("..")) {
                throw new InvalidLayerException(Kind.UNSAFE, "invalid whiteout " + e.path());
            }
            String victimPath = e.parent().isEmpty() ? victim : e.parent() + "/" + victim;
            whiteouts++;
            if (ours.contains(victimPath)) {
                return; // whiteouts only hide lower layers' content
            }
            // Like any entry, a whiteout implies its directory exists in this layer.
            Path parent = resolve(e.parent(), true, "whiteout " + e.path());
            deleteTree(parent.resolve(victim));
        }

        /** Deletes everything under {@code dir} not created by this layer. */
        private void clearLower(String rel, Path dir) throws IOException {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path child : ds) {
                    String childRel = rel.isEmpty() ? child.getFileName().toString()
                            : rel + "/" + child.getFileName();
                    if (!ours.contains(childRel)) {
                        deleteTree(child);
                    } else {
                        BasicFileAttributes a = lstat(child);
                        if (a != null && a.isDirectory()) {
                            clearLower(childRel, child);
                        }
                    }
                }
            }
        }

        /**
         * Resolves the parent of an entry safely, removes whatever is at the entry's path unless
         * both are directories, and records the path as created by this layer.
         */
        private Path prepare(TarEntry e) throws IOException {
            Path parent = resolve(e.parent(), true, "entry " + e.path());
            Path p = parent.resolve(e.name());
            BasicFileAttributes a = lstat(p);
            if (a != null && !(a.isDirectory() && e.type() == TarEntry.Type.DIRECTORY)) {
                deleteTree(p);
            }
            markOurs(e.path());
            return p;
        }

        private void markOurs(String path) {
            String s = path;
            while (!s.isEmpty() && ours.add(s)) {
                int i = s.lastIndexOf('/');
                s = i < 0 ? "" : s.substring(0, i);
            }
        }

        /**
         * Walks {@code rel} from the root one component at a time without following symlinks.
         * Missing directories are created when {@code create}, else {@code null} is returned.
         */
        private Path resolve(String rel, boolean create, String what) throws IOException {
            return guard.resolveDir(rel, create, what, this::markOurs);
        }

        private void setAttributes(Path p, TarEntry e, boolean isDir) throws IOException {
            if (options.preserveOwnership()) {
                setOwner(p, e);
            }
            if (e.type() != TarEntry.Type.SYMLINK) {
                int mode = e.mode();
                if (!options.preserveOwnership()) {
                    mode &= ~06000; // no setuid/setgid on files owned by the wrong user
                }
                if (isDir && !options.preserveOwnership()) {
                    mode |= 0700; // keep the tree removable by its unprivileged owner
                }
                Files.setAttribute(p, "unix:mode", mode, NOFOLLOW);
            }
            Files.getFileAttributeView(p, BasicFileAttributeView.class, NOFOLLOW).setTimes(e.mtime(), null, null);
        }
    }

    /** lchown: never follows a symlink and never opens the file. */
    private static void setOwner(Path p, TarEntry e) throws IOException {
        Files.setAttribute(p, "unix:uid", (int) e.uid(), NOFOLLOW);
        Files.setAttribute(p, "unix:gid", (int) e.gid(), NOFOLLOW);
    }

    private static BasicFileAttributes lstat(Path p) throws IOException {
        return RootGuard.lstat(p);
    }

    /** Deletes a file, symlink or directory tree without following symlinks. */
    static void deleteTree(Path p) throws IOException {
        RootGuard.deleteTree(p);
    }
}
