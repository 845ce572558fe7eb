package io.layerswarm.handoff;

import com.github.luben.zstd.ZstdInputStream;
import io.layerswarm.cache.layer.InvalidLayerException;
import io.layerswarm.cache.layer.RootGuard;
import io.layerswarm.handoff.RoundRejectedException.Reason;
import io.layerswarm.handoff.pb.HandoffProtos.Entry;
import io.layerswarm.handoff.pb.HandoffProtos.Record;
import io.layerswarm.handoff.pb.HandoffProtos.RoundHeader;
import io.layerswarm.transfer.Frames;
import io.layerswarm.transfer.ProtocolException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target side of writable-layer rounds. Under its base directory it keeps generations
 * {@code gen-N} and a symlink {@code current -> gen-N}. A round is applied while it is received into
 * a new generation (unchanged files are hard links to the current one, never written to: every
 * changed entry is a new inode), and committed by atomically replacing the {@code current} symlink.
 * A refused round ({@link RoundRejectedException}) leaves {@code current} as it was and its staging
 * generation deleted.
 *
 * <p>Safety: entry paths go through {@link RootGuard} (no absolute paths, no {@code ..}, no writing
 * through symlinks, no relative symlink climbing above the root), inline content must match its
 * announced size and sha256, referenced content is re-verified while copied, and the inline total
 * may not exceed the header's announcement nor {@link Limits#maxRoundBytes()}.
 */
public final class RoundReceiver {
    private static final Logger LOG = LoggerFactory.getLogger(RoundReceiver.class);
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    /** Largest record frame: a chunk plus room for entry metadata. */
    static final int MAX_RECORD = RoundWriter.CHUNK + 64 * 1024;
    private static final String CURRENT = "current";

    /**
     * Bounds on what one round may announce.
     *
     * @param maxRoundBytes largest inline content total
     * @param maxEntries most entries
     */
    public record Limits(long maxRoundBytes, int maxEntries) {
        /** 64 GiB and a million entries. */
        public static Limits defaults() {
            return new Limits(64L << 30, 1_000_000);
        }
    }

    private final Path base;
    private final ContentSource extra;
    private final Limits limits;
    private Manifest manifest;
    private long generation;
    private long lastRound;
    /** Set while {@link #receive} runs (read without the lock by an idle sweep). */
    private volatile boolean receiving;
    /** What {@link #installInto} last left in {@link #installedAt} (null: nothing installed). */
    private Manifest installed = Manifest.empty();
    private Path installedAt;

    private RoundReceiver(Path base, ContentSource extra, Limits limits, Manifest manifest, long generation) {
        this.base = base;
        this.extra = extra;
        this.limits = limits;
        this.manifest = manifest;
        this.generation = generation;
    }

    /**
     * Opens (creating if needed) a receiver under {@code base}; an existing committed tree is scanned.
     *
     * @param extra content the target holds outside the tree (image layers), or {@link ContentSource#none()}
     */
    public static RoundReceiver open(Path base, ContentSource extra, Limits limits) throws IOException {
        Files.createDirectories(base);
        Path real = base.toRealPath();
        Path cur = real.resolve(CURRENT);
        long gen;
        if (Files.isSymbolicLink(cur)) {
            String name = Files.readSymbolicLink(cur).toString();
            if (!name.matches("gen-[0-9]+")) {
                throw new IOException("unexpected " + cur + " -> " + name);
            }
            gen = Long.parseLong(name.substring(4));
        } else {
            gen = 0;
            Files.createDirectories(real.resolve("gen-0"));
            Files.createSymbolicLink(cur, real.getFileSystem().getPath("gen-0"));
        }
        // Leftover staging generations of a crash: never committed, so discard.
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(real, "gen-*")) {
            for (Path p : ds) {
                if (!p.getFileName().toString().equals("gen-" + gen)) {
                    RootGuard.deleteTree(p);
                }
            }
        }
        Manifest m = TreeScanner.scan(real.resolve("gen-" + gen));
        return new RoundReceiver(real, Objects.requireNonNull(extra), Objects.requireNonNull(limits), m, gen);
    }

    /** The committed tree (a real directory, stable until the next commit). */
    public synchronized Path current() {
        return base.resolve("gen-" + generation);
    }

    /** The committed tree's manifest. */
    public synchronized Manifest manifest() {
        return manifest;
    }

    /** Digests the target holds: its committed tree plus the extra source. What it tells the sender. */
    public synchronized Set<String> have() {
        Set<String> s = new HashSet<>(manifest.digests());
        s.addAll(extra.digests());
        return s;
    }

    /**
     * Receives, applies and commits one round.
     *
     * @return what the round carried, as counted on this side ({@code wireBytes} is 0: not counted here)
     * @throws RoundRejectedException if the stream is corrupt, unsafe, oversized or does not match its digests
     * @throws IOException on a local I/O failure; the round is then not committed either
     */
    public synchronized RoundStats receive(InputStream in) throws IOException {
        receiving = true;
        try {
            return receiveRound(in);
        } finally {
            receiving = false;
        }
    }

    /**
     * Whether a round is being received right now (a target does not count a session whose round is
     * still streaming in as idle, however long the round takes).
     */
    public boolean receiving() {
        return receiving;
    }

    private RoundStats receiveRound(InputStream in) throws IOException {
        Path staging = base.resolve("gen-" + (generation + 1));
        RootGuard.deleteTree(staging);
        Files.createDirectory(staging);
        Run run = new Run(staging.toRealPath(), in);
        try {
            cloneCurrent(staging);
            run.applyAll();
            Manifest next = manifest.apply(new RoundPlan(run.round, run.deletions, run.changes));
            // every directory of the staging tree is new (cloned or received): mark the opaque ones afresh
            List<String> opaque = next.entries().values().stream().filter(TreeEntry::opaque).map(TreeEntry::path)
                    .toList();
            if (!opaque.isEmpty()) {
                OverlayOpaque.mark(staging, opaque, true);
            }
            finishDirectories(staging, next);
            promote(generation + 1);
            RootGuard.deleteTree(base.resolve("gen-" + generation));
            generation++;
            manifest = next;
            lastRound = run.round;
        } catch (IOException | RuntimeException e) {
            RootGuard.deleteTree(staging);
            LOG.warn("event=handoff.roundRefused round={} error=\"{}\"", run.round, e.getMessage());
            throw translate(e);
        }
        RoundStats stats = new RoundStats(run.round, run.deletions.size() + run.changes.size(), run.deletions.size(),
                run.inlineFiles, run.referencedFiles, run.inlineBytes, 0);
        LOG.info("event=handoff.roundCommitted round={} generation={} entries={} inlineFiles={} contentBytes={}",
                stats.round(), generation, stats.entries(), stats.inlineFiles(), stats.contentBytes());
        return stats;
    }

    private static IOException translate(Exception e) {
        if (e instanceof RoundRejectedException r) {
            return r;
        }
        if (e instanceof InvalidLayerException il) {
            return new RoundRejectedException(il.kind() == InvalidLayerException.Kind.UNSAFE ? Reason.UNSAFE
                    : Reason.CORRUPT, il.getMessage(), il);
        }
        if (e instanceof ProtocolException || e instanceof EOFException) {
            return new RoundRejectedException(Reason.CORRUPT, e.getMessage(), e);
        }
        if (e instanceof IOException io) {
            return io;
        }
        return new RoundRejectedException(Reason.CORRUPT, String.valueOf(e.getMessage()), e);
    }

    private void promote(long gen) throws IOException {
        Path tmp = base.resolve(CURRENT + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, base.getFileSystem().getPath("gen-" + gen));
        // rename(2) over the old link: readers see the old or the new tree, never a mix.
        Files.move(tmp, base.resolve(CURRENT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Mirrors the committed tree into {@code staging}: directories and symlinks anew, files as hard links. */
    private void cloneCurrent(Path staging) throws IOException {
        Path cur = current();
        for (TreeEntry e : manifest.entries().values()) {
            Path to = staging.resolve(e.path());
            Path from = cur.resolve(e.path());
            switch (e.type()) {
                case DIRECTORY -> {
                    Files.createDirectory(to);
                    setOwner(to, e.uid(), e.gid());
                    setXattrs(to, e.xattrs());
                }
                // a whiteout is never written either: the staging tree shares its node
                case FILE, HARDLINK, WHITEOUT -> Files.createLink(to, from);
                case SYMLINK -> {
                    Files.createSymbolicLink(to, Files.readSymbolicLink(from));
                    setOwner(to, e.uid(), e.gid());
                    setTimes(to, e.mtimeNanos());
                }
            }
        }
    }

    /** Makes {@code p} an overlay whiteout with the entry's mode, owner and time. */
    private static void whiteoutNode(Path p, TreeEntry e) throws IOException {
        Whiteouts.make(p, e.mode(), e.uid(), e.gid(), e.mtimeNanos());
    }

    /**
     * Brings {@code dest} (an existing directory, e.g. a new container's writable layer) to the committed
     * tree with modes, owners, times, links and xattrs. Only what changed since the last install into
     * the same {@code dest} is copied (its removed entries deleted, its changed ones replaced), so a
     * target can install each running round as it commits and leave the restore only the final diff;
     * a first install, or one into another directory, copies everything. Entries in the way are
     * replaced, directories kept. The receiver's own files are never shared with {@code dest}: the
     * container will write to them.
     */
    public synchronized void installInto(Path dest) throws IOException {
        Path real = dest.toRealPath();
        Manifest before = real.equals(installedAt) ? installed : Manifest.empty();
        // every content counts as held: changed files are copied from the committed tree, never referenced
        RoundPlan diff = RoundPlanner.plan(0, before, manifest, manifest.digests());
        installedAt = null; // a failure below leaves dest unknown: the next install starts over
        RootGuard guard = new RootGuard(real);
        Path cur = current();
        List<String> opaque = new ArrayList<>();
        List<String> notOpaque = new ArrayList<>();
        for (String d : diff.deletions()) {
            int i = d.lastIndexOf('/');
            Path parent = guard.resolveDir(i < 0 ? "" : d.substring(0, i), false, "remove " + d, p -> { });
            if (parent != null) {
                RootGuard.deleteTree(parent.resolve(d.substring(i + 1)));
            }
        }
        for (RoundPlan.Change c : diff.changes()) {
            TreeEntry e = c.entry();
            Path parent = guard.resolveDir(e.parent(), true, "install " + e.path(), p -> { });
            Path to = parent.resolve(e.name());
            BasicFileAttributes a = RootGuard.lstat(to);
            if (a != null && !(a.isDirectory() && e.type() == EntryType.DIRECTORY)) {
                RootGuard.deleteTree(to);
            }
            switch (e.type()) {
                case DIRECTORY -> {
                    boolean kept = a != null && a.isDirectory();
                    if (!kept) {
                        Files.createDirectory(to);
                    }
                    setOwner(to, e.uid(), e.gid());
                    setXattrs(to, e.xattrs());
                    TreeEntry was = before.entries().get(e.path());
                    if (e.opaque()) {
                        opaque.add(e.path());
                    } else if (kept && was != null && was.opaque()) {
                        notOpaque.add(e.path()); // a kept directory that is opaque no longer
                    }
                }
                case FILE -> {
                    Files.copy(cur.resolve(e.path()), to, NOFOLLOW);
                    setOwner(to, e.uid(), e.gid());
                    Files.setAttribute(to, "unix:mode", e.mode(), NOFOLLOW);
                    setXattrs(to, e.xattrs());
                    setTimes(to, e.mtimeNanos());
                }
                case HARDLINK -> Files.createLink(to, real.resolve(e.linkTarget()));
                case SYMLINK -> {
                    Files.createSymbolicLink(to, Files.readSymbolicLink(cur.resolve(e.path())));
                    setOwner(to, e.uid(), e.gid());
                    setTimes(to, e.mtimeNanos());
                }
                case WHITEOUT -> whiteoutNode(to, e);
            }
        }
        if (!opaque.isEmpty()) {
            OverlayOpaque.mark(real, opaque, true);
        }
        if (!notOpaque.isEmpty()) {
            OverlayOpaque.mark(real, notOpaque, false);
        }
        finishDirectories(real, manifest);
        installed = manifest;
        installedAt = real;
        LOG.info("event=handoff.installed generation={} entries={} changed={} removed={} dest={}", generation,
                manifest.entries().size(), diff.changes().size(), diff.deletions().size(), dest);
    }

    /** Modes and times of directories last: creating children changes a directory's mtime. */
    private static void finishDirectories(Path staging, Manifest next) throws IOException {
        for (TreeEntry e : next.entries().values()) {
            if (e.type() == EntryType.DIRECTORY) {
                Path p = staging.resolve(e.path());
                Files.setAttribute(p, "unix:mode", e.mode(), NOFOLLOW);
                setTimes(p, e.mtimeNanos());
            }
        }
    }

    /** One round being applied into a staging tree. */
    private final class Run {
        private final RootGuard guard;
        private final InputStream in;
        private final List<String> deletions = new ArrayList<>();
        private final List<RoundPlan.Change> changes = new ArrayList<>();
        private final Set<String> seen = new HashSet<>();
        /** Content written by this round, by digest: staging paths of new inodes. */
        private final Map<String, Path> written = new HashMap<>();
        private final Map<String, String> committed = new HashMap<>();
        private final byte[] buf = new byte[64 * 1024];
        private long round;
        private long announced;
        private long announcedSoFar;
        private long inlineBytes;
        private long inlineFiles;
        private long referencedFiles;

        Run(Path staging, InputStream in) {
            this.guard = new RootGuard(staging);
            this.in = in;
            for (TreeEntry e : manifest.entries().values()) {
                if (e.type() == EntryType.FILE) {
                    committed.putIfAbsent(e.sha256(), e.path());
                }
            }
        }

        void applyAll() throws IOException {
            Record first = read();
            if (!first.hasHeader()) {
                throw new RoundRejectedException(Reason.CORRUPT, "stream does not start with a round header");
            }
            RoundHeader h = first.getHeader();
            if (h.getVersion() != RoundWriter.VERSION) {
                throw new RoundRejectedException(Reason.CORRUPT, "unsupported round version " + h.getVersion());
            }
            if (h.getRound() <= lastRound) {
                throw new RoundRejectedException(Reason.CORRUPT, "round " + h.getRound() + " after round " + lastRound);
            }
            round = h.getRound();
            announced = h.getContentBytes();
            if (announced < 0 || announced > limits.maxRoundBytes()) {
                throw new RoundRejectedException(Reason.OVERSIZE, "round announces " + Long.toUnsignedString(announced)
                        + " content bytes, limit " + limits.maxRoundBytes());
            }
            if (h.getEntries() < 0 || h.getEntries() > limits.maxEntries()) {
                throw new RoundRejectedException(Reason.OVERSIZE, "round announces " + h.getEntries()
                        + " entries, limit " + limits.maxEntries());
            }
            List<Entry> hardlinks = new ArrayList<>();
            for (;;) {
                Record r = read();
                switch (r.getKindCase()) {
                    case ENTRY -> {
                        if (seen.size() >= h.getEntries()) {
                            throw new RoundRejectedException(Reason.CORRUPT, "more entries than the "
                                    + h.getEntries() + " announced");
                        }
                        Entry e = r.getEntry();
                        if (!seen.add(e.getPath())) {
                            throw new RoundRejectedException(Reason.CORRUPT, "path " + e.getPath() + " twice");
                        }
                        if (e.getKind() == Entry.Kind.WHITEOUT && !changes.isEmpty()) {
                            throw new RoundRejectedException(Reason.CORRUPT, "whiteout " + e.getPath()
                                    + " after changed entries");
                        }
                        apply(e);
                    }
                    case END -> {
                        if (r.getEnd().getEntries() != h.getEntries() || seen.size() != h.getEntries()
                                || r.getEnd().getContentBytes() != announced || inlineBytes != announced) {
                            throw new RoundRejectedException(Reason.CORRUPT, "round end does not match: "
                                    + seen.size() + " entries and " + inlineBytes + " content bytes received, "
                                    + h.getEntries() + " and " + announced + " announced");
                        }
                        return;
                    }
                    default -> throw new RoundRejectedException(Reason.CORRUPT, "unexpected "
                            + r.getKindCase() + " record");
                }
            }
        }

        private Record read() throws IOException {
            return Frames.read(in, Record.parser(), MAX_RECORD);
        }

        private void apply(Entry e) throws IOException {
            String path = RootGuard.normalize(e.getPath(), "entry");
            if (path.isEmpty() || !path.equals(e.getPath())) {
                throw new RoundRejectedException(path.isEmpty() ? Reason.UNSAFE : Reason.CORRUPT,
                        "entry path '" + e.getPath() + "' is not a canonical path below the root");
            }
            if (e.getKind() == Entry.Kind.WHITEOUT) {
                whiteout(path);
                return;
            }
            if (e.getOpaque() && e.getKind() != Entry.Kind.DIRECTORY) {
                throw new RoundRejectedException(Reason.CORRUPT, "entry " + path + " of kind " + e.getKind()
                        + " is marked opaque (only a directory can be)");
            }
            if ((e.getMode() & ~07777) != 0) {
                throw new RoundRejectedException(Reason.CORRUPT, "entry " + path + " has mode "
                        + Integer.toOctalString(e.getMode()));
            }
            TreeEntry t = toEntry(e, path);
            switch (e.getKind()) {
                case DIRECTORY -> directory(t);
                case FILE -> file(t, e.getInlineContent());
                case SYMLINK -> symlink(t);
                case HARDLINK -> hardlink(t);
                case LOWER_WHITEOUT -> whiteoutNode(prepare(t), t);
                default -> throw new RoundRejectedException(Reason.CORRUPT, "entry " + path + " of kind "
                        + e.getKind());
            }
            changes.add(new RoundPlan.Change(t, e.getInlineContent()));
        }

        private void whiteout(String path) throws IOException {
            int i = path.lastIndexOf('/');
            Path parent = guard.resolveDir(i < 0 ? "" : path.substring(0, i), false, "whiteout " + path, p -> { });
            if (parent != null) {
                RootGuard.deleteTree(parent.resolve(path.substring(i + 1)));
            }
            deletions.add(path);
        }

        private void directory(TreeEntry t) throws IOException {
            Path p = prepare(t);
            if (!Files.isDirectory(p, NOFOLLOW)) {
                Files.createDirectory(p);
            }
            setOwner(p, t.uid(), t.gid());
            setXattrs(p, t.xattrs());
        }

        private void file(TreeEntry t, boolean inline) throws IOException {
            if (!SHA256.matcher(t.sha256()).matches() || t.size() < 0) {
                throw new RoundRejectedException(Reason.CORRUPT, "file " + t.path() + " has no valid sha256/size");
            }
            Path p = prepare(t);
            MessageDigest md = TreeScanner.newDigest();
            long n;
            if (inline) {
                announcedSoFar += t.size();
                if (announcedSoFar > announced) {
                    throw new RoundRejectedException(Reason.OVERSIZE, "file " + t.path() + " brings the round to "
                            + announcedSoFar + " content bytes, " + announced + " announced");
                }
                ChunkInputStream chunks = new ChunkInputStream();
                try (OutputStream out = Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, NOFOLLOW);
                     ZstdInputStream z = new ZstdInputStream(chunks)) {
                    n = copy(z, out, md, t.size() + 1);
                    if (n > t.size()) {
                        throw new RoundRejectedException(Reason.OVERSIZE, "file " + t.path()
                                + " has more than its announced " + t.size() + " bytes");
                    }
                } catch (IOException ex) {
                    if (ex instanceof RoundRejectedException) {
                        throw ex;
                    }
                    throw new RoundRejectedException(Reason.CORRUPT, "content of " + t.path() + ": " + ex.getMessage(), ex);
                }
                chunks.finish(t.path());
                inlineBytes += n;
                inlineFiles++;
            } else {
                Path src = locate(t.sha256());
                if (src == null) {
                    throw new RoundRejectedException(Reason.MISSING_CONTENT, "file " + t.path()
                            + " refers to content " + t.sha256() + " this node does not hold");
                }
                try (InputStream s = Files.newInputStream(src, NOFOLLOW);
                     OutputStream out = Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, NOFOLLOW)) {
                    n = copy(s, out, md, t.size() + 1);
                }
                referencedFiles++;
            }
            String digest = HexFormat.of().formatHex(md.digest());
            if (n != t.size() || !digest.equals(t.sha256())) {
                throw new RoundRejectedException(Reason.DIGEST_MISMATCH, "file " + t.path() + " announced "
                        + t.size() + " bytes sha256:" + t.sha256() + ", got " + n + " bytes sha256:" + digest);
            }
            written.putIfAbsent(t.sha256(), p);
            setOwner(p, t.uid(), t.gid());
            Files.setAttribute(p, "unix:mode", t.mode(), NOFOLLOW);
            setXattrs(p, t.xattrs());
            setTimes(p, t.mtimeNanos());
        }

        private Path locate(String sha256) {
            Path p = written.get(sha256);
            if (p != null) {
                return p;
            }
            String rel = committed.get(sha256);
            if (rel != null) {
                return current().resolve(rel);
            }
            Optional<Path> x = extra.locate(sha256);
            return x.orElse(null);
        }

        private long copy(InputStream from, OutputStream to, MessageDigest md, long max) throws IOException {
            long n = 0;
            int r;
            while (n < max && (r = from.read(buf, 0, (int) Math.min(buf.length, max - n))) != -1) {
                to.write(buf, 0, r);
                md.update(buf, 0, r);
                n += r;
            }
            return n;
        }

        private void symlink(TreeEntry t) throws IOException {
            if (t.linkTarget().isEmpty()) {
                throw new RoundRejectedException(Reason.CORRUPT, "symlink " + t.path() + " without a target");
            }
            RootGuard.checkSymlinkTarget(t.parent(), t.linkTarget(), t.path());
            Path p = prepare(t);
            Files.createSymbolicLink(p, p.getFileSystem().getPath(t.linkTarget()));
            setOwner(p, t.uid(), t.gid());
            setTimes(p, t.mtimeNanos());
        }

        private void hardlink(TreeEntry t) throws IOException {
            String target = RootGuard.normalize(t.linkTarget(), "hard link target of " + t.path());
            if (target.isEmpty() || target.equals(t.path())) {
                throw new RoundRejectedException(Reason.UNSAFE, "hard link " + t.path() + " -> '"
                        + t.linkTarget() + "'");
            }
            int i = target.lastIndexOf('/');
            Path dir = guard.resolveDir(i < 0 ? "" : target.substring(0, i), false,
                    "hard link target of " + t.path(), p -> { });
            Path source = dir == null ? null : dir.resolve(target.substring(i + 1));
            BasicFileAttributes a = source == null ? null : RootGuard.lstat(source);
            if (a == null || !a.isRegularFile()) {
                throw new RoundRejectedException(Reason.CORRUPT, "hard link " + t.path() + " -> " + target
                        + ", which is not a regular file here");
            }
            Path p = prepare(t);
            Files.createLink(p, source);
        }

        /** Resolves the entry's parent safely and clears its path unless both are directories. */
        private Path prepare(TreeEntry t) throws IOException {
            Path parent = guard.resolveDir(t.parent(), true, "entry " + t.path(), p -> { });
            Path p = parent.resolve(t.name());
            BasicFileAttributes a = RootGuard.lstat(p);
            if (a != null && !(a.isDirectory() && t.type() == EntryType.DIRECTORY)) {
                RootGuard.deleteTree(p);
            }
            return p;
        }

        /** Compressed bytes of one file: the chunk records up to and including the last. */
        private final class ChunkInputStream extends InputStream {
            private byte[] data = new byte[0];
            private int pos;
            private boolean last;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                while (pos == data.length) {
                    if (last) {
                        return -1;
                    }
                    Record r = RoundReceiver.Run.this.read();
                    if (!r.hasChunk()) {
                        throw new RoundRejectedException(Reason.CORRUPT, "expected a content chunk, got "
                                + r.getKindCase());
                    }
                    data = r.getChunk().getData().toByteArray();
                    pos = 0;
                    last = r.getChunk().getLast();
                }
                int k = Math.min(len, data.length - pos);
                System.arraycopy(data, pos, b, off, k);
                pos += k;
                return k;
            }

            /** Requires that the file's content ended exactly with its last chunk. */
            void finish(String path) throws IOException {
                if (pos != data.length || !last) {
                    throw new RoundRejectedException(Reason.CORRUPT, "content of " + path
                            + " continues after its compressed end");
                }
            }
        }
    }

    private static TreeEntry toEntry(Entry e, String path) {
        TreeMap<String, String> x = new TreeMap<>();
        for (var a : e.getXattrsList()) {
            x.put(a.getName(), HexFormat.of().formatHex(a.getValue().toByteArray()));
        }
        EntryType type = switch (e.getKind()) {
            case DIRECTORY -> EntryType.DIRECTORY;
            case SYMLINK -> EntryType.SYMLINK;
            case HARDLINK -> EntryType.HARDLINK;
            case LOWER_WHITEOUT -> EntryType.WHITEOUT;
            default -> EntryType.FILE;
        };
        return new TreeEntry(path, type, e.getMode(), e.getUid(), e.getGid(), e.getMtimeNanos(), e.getSize(),
                e.getSha256(), e.getLinkTarget(), x, e.getOpaque());
    }

    private static void setOwner(Path p, int uid, int gid) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, NOFOLLOW);
        Files.setAttribute(p, "unix:gid", gid, NOFOLLOW);
    }

    private static void setTimes(Path p, long mtimeNanos) throws IOException {
        Files.getFileAttributeView(p, BasicFileAttributeView.class, NOFOLLOW)
                .setTimes(FileTime.from(mtimeNanos, TimeUnit.NANOSECONDS), null, null);
    }

    /** Makes the {@code user.*} xattrs exactly {@code want}; other namespaces are refused. */
    private static void setXattrs(Path p, SortedMap<String, String> want) throws IOException {
        UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class, NOFOLLOW);
        Set<String> have;
        try {
            have = new HashSet<>(v.list());
        } catch (IOException | UnsupportedOperationException e) {
            if (want.isEmpty()) {
                return; // file system without user xattrs, and none wanted
            }
            throw e;
        }
        for (Map.Entry<String, String> x : want.entrySet()) {
            if (!x.getKey().startsWith("user.") || x.getKey().length() == 5) {
                throw new RoundRejectedException(Reason.UNSAFE, "xattr " + x.getKey() + " on " + p.getFileName()
                        + " is outside the user namespace");
            }
            String name = x.getKey().substring(5);
            v.write(name, ByteBuffer.wrap(HexFormat.of().parseHex(x.getValue())));
            have.remove(name);
        }
        for (String stale : have) {
            v.delete(stale);
        }
    }
}
