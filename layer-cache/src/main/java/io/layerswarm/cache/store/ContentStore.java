package io.layerswarm.cache.store;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A content-addressed blob store on local disk.
 *
 * <p>Committed blobs live at {@code root/blobs/<alg>/<hex>} and are read-only. New content is
 * written under {@code root/ingest/}, fsynced, verified against its digest (and size, when known),
 * atomically renamed into place and the directory fsynced, so a reader never sees a partial or
 * unverified blob, even after a crash. Concurrent ingests of the same digest coalesce: one caller
 * writes, the others wait and share its result (or retry with their own stream if it failed).
 *
 * <p>Space: a blob of known size reserves its bytes before the first one is written; if the file
 * system lacks them (less {@link #SPACE_MARGIN}), the store first asks its {@link SpaceReclaimer}
 * (the layer cache) to evict, then fails with {@link InsufficientStorageException}. A write that
 * still hits a full disk fails the same way; either way the temp file is deleted.
 *
 * <p>One process owns a store directory at a time (an OS file lock on {@code root/.lock}, released
 * automatically if the process dies); {@link #open(Path)} cleans temp files a crashed owner left.
 * Instances are thread-safe.
 */
public final class ContentStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ContentStore.class);
    private static final int BUFFER = 64 * 1024;
    /** Bytes kept free on the store's file system beyond reserved blobs (journal, directories, metadata). */
    public static final long SPACE_MARGIN = 1L << 20;

    private final Path root;
    private final Path blobs;
    private final Path ingest;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ConcurrentHashMap<Digest, CompletableFuture<Long>> inFlight = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<StoreListener> listeners = new CopyOnWriteArrayList<>();
    private final Object publishLock = new Object();
    private final AtomicLong totalBytes = new AtomicLong();
    private final Object spaceLock = new Object();
    /** Bytes promised to blobs being written and not yet on disk; guarded by spaceLock. */
    private long reserved;
    private final ConcurrentHashMap<Digest, Reservation> reservations = new ConcurrentHashMap<>();
    private final java.nio.file.FileStore fileStore;
    private volatile SpaceReclaimer reclaimer;
    private volatile boolean closed;

    private ContentStore(Path root, FileChannel lockChannel, FileLock lock) throws IOException {
        this.root = root;
        this.fileStore = Files.getFileStore(root);
        this.blobs = root.resolve("blobs");
        this.ingest = root.resolve("ingest");
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Opens (creating if needed) the store at {@code root}, takes ownership of it and deletes temp
     * files left by a crashed owner. Committed blobs are never touched.
     *
     * @throws IOException if the directory cannot be created or another owner holds the store
     */
    public static ContentStore open(Path root) throws IOException {
        Objects.requireNonNull(root, "root");
        Path abs = root.toAbsolutePath().normalize();
        Files.createDirectories(abs.resolve("blobs"));
        Files.createDirectories(abs.resolve("ingest"));
        FileChannel ch = FileChannel.open(abs.resolve(".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lk;
        try {
            lk = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lk = null;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (lk == null) {
            ch.close();
            throw new IOException("content store " + abs + " is already open (in this or another process)");
        }
        ContentStore store;
        try {
            store = new ContentStore(abs, ch, lk);
        } catch (IOException | RuntimeException e) {
            lk.release();
            ch.close();
            throw e;
        }
        try {
            store.recover();
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    private void recover() throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(ingest)) {
            for (Path p : ds) {
                if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(p)) {
                    Files.deleteIfExists(p);
                    removed++;
                }
            }
        }
        if (removed > 0) {
            fsyncDir(ingest);
            LOG.info("store.recover root={} staleTempFilesRemoved={}", root, removed);
        }
        long total = 0;
        for (BlobInfo b : list()) {
            total += b.size();
        }
        totalBytes.set(total);
    }

    /** The store's root directory. */
    public Path root() {
        return root;
    }

    /** Whether a verified blob with this digest is committed. */
    public boolean contains(Digest digest) {
        return Files.isRegularFile(pathFor(digest), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /** The size of a committed blob, or empty if absent. */
    public OptionalLong size(Digest digest) {
        try {
            return OptionalLong.of(Files.size(pathFor(digest)));
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * Opens a committed blob for reading. A stream stays valid even if the blob is deleted meanwhile.
     *
     * @throws NoSuchFileException if the blob is not in the store
     */
    public InputStream open(Digest digest) throws IOException {
        Path p = pathFor(digest);
        try {
            return Files.newInputStream(p);
        } catch (NoSuchFileException e) {
            throw notFound(digest, p);
        }
    }

    /**
     * The path of a committed blob, e.g. for hard-linking. Treat it as read-only.
     *
     * @throws NoSuchFileException if the blob is not in the store
     */
    public Path blobPath(Digest digest) throws NoSuchFileException {
        Path p = pathFor(digest);
        if (!Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw notFound(digest, p);
        }
        return p;
    }

    /**
     * Streams {@code in} into the store if the blob is not there yet, verifying its digest.
     *
     * @return the blob's size
     * @throws DigestMismatchException if the content does not match; nothing is kept
     */
    public long ingest(Digest expected, InputStream in) throws IOException {
        return ingest(expected, -1, in);
    }

    /**
     * Streams {@code in} into the store if the blob is not there yet, verifying digest and size.
     * If the blob is already committed, {@code in} is not read. If another thread is ingesting the
     * same digest, this call waits and returns its result; if that attempt fails, this call tries
     * with its own stream.
     *
     * @param expectedSize the announced size, or {@code -1} if unknown; more bytes than this are
     *                     never written to disk
     * @return the blob's size
     * @throws DigestMismatchException if the content does not match digest or size; nothing is kept
     */
    public long ingest(Digest expected, long expectedSize, InputStream in) throws IOException {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(in, "in");
        ensureOpen();
        while (true) {
            OptionalLong existing = size(expected);
            if (existing.isPresent()) {
                return checkExistingSize(expected, expectedSize, existing.getAsLong());
            }
            CompletableFuture<Long> mine = new CompletableFuture<>();
            CompletableFuture<Long> other = inFlight.putIfAbsent(expected, mine);
            if (other != null) {
                try {
                    return checkExistingSize(expected, expectedSize, other.get());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted waiting for concurrent ingest of " + expected);
                } catch (ExecutionException e) {
                    LOG.debug("store.ingest.retry digest={} cause={}", expected, e.getCause().toString());
                    continue;
                }
            }
            try {
                long size = writeVerified(expected, expectedSize, in);
                mine.complete(size);
                return size;
            } catch (IOException | RuntimeException | Error e) {
                mine.completeExceptionally(e);
                throw e;
            } finally {
                inFlight.remove(expected, mine);
            }
        }
    }

    private static long checkExistingSize(Digest d, long expectedSize, long actual) throws DigestMismatchException {
        if (expectedSize >= 0 && expectedSize != actual) {
            throw new DigestMismatchException(d, d, "blob " + d + " has " + actual
                    + " bytes but " + expectedSize + " were announced");
        }
        return actual;
    }

    private long writeVerified(Digest expected, long expectedSize, InputStream in) throws IOException {
        Path tmp = newTempPath(expected);
        boolean published = false;
        try (Reservation space = reserve(expected, Math.max(expectedSize, 0))) {
            long total = 0;
            MessageDigest md = expected.newMessageDigest();
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                byte[] buf = new byte[BUFFER];
                int n;
                while ((n = in.read(buf)) != -1) {
                    total += n;
                    if (expectedSize >= 0 && total > expectedSize) {
                        throw new DigestMismatchException(expected, null, "blob " + expected
                                + ": received more than the announced " + expectedSize + " bytes");
                    }
                    md.update(buf, 0, n);
                    ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                    while (bb.hasRemaining()) {
                        ch.write(bb);
                    }
                    space.consumed(n);
                }
                ch.force(true);
            } catch (IOException e) {
                throw diskFull(e, expected, Math.max(expectedSize, total));
            }
            if (expectedSize >= 0 && total != expectedSize) {
                throw new DigestMismatchException(expected, null, "blob " + expected + ": received "
                        + total + " bytes but " + expectedSize + " were announced");
            }
            Digest actual = Digest.fromHash(expected.algorithm(), md.digest());
            if (!actual.equals(expected)) {
                throw new DigestMismatchException(expected, actual, "blob content hashes to " + actual
                        + ", expected " + expected + " (" + total + " bytes); discarded");
            }
            publish(tmp, expected, total);
            published = true;
            return total;
        } finally {
            if (!published) {
                deleteQuietly(tmp);
            }
        }
    }

    /**
     * Starts a piece-wise download of a blob whose pieces may arrive out of order, from several
     * threads. Nothing is visible until {@link PartialBlob#commit()} verified the whole blob.
     *
     * @param expected the blob's digest
     * @param size its exact size in bytes
     */
    public PartialBlob openPartial(Digest expected, long size) throws IOException {
        Objects.requireNonNull(expected, "expected");
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative: " + size);
        }
        ensureOpen();
        Reservation space = reserve(expected, size);
        Path tmp = newTempPath(expected);
        try {
            FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            return new PartialBlob(this, expected, size, tmp, ch, space);
        } catch (IOException e) {
            space.close();
            deleteQuietly(tmp);
            throw diskFull(e, expected, size);
        } catch (RuntimeException e) {
            space.close();
            deleteQuietly(tmp);
            throw e;
        }
    }

    /**
     * Sets who frees space when a blob does not fit (the layer cache registers itself); {@code null}
     * for nobody.
     */
    public void setSpaceReclaimer(SpaceReclaimer r) {
        reclaimer = r;
    }

    /**
     * Bytes a new blob can use now: the file system's usable space less what blobs being written
     * have reserved and less {@link #SPACE_MARGIN}; may be negative.
     */
    public long availableBytes() {
        synchronized (spaceLock) {
            return usableSpace() - reserved - SPACE_MARGIN;
        }
    }

    /**
     * Makes sure a blob of {@code bytes} would fit now, asking the {@link SpaceReclaimer} to evict
     * if needed, without reserving anything. Writers that learn a blob's size before they start (the
     * mirror, pulls) call it off their event loops so eviction does not stall them later; the store
     * checks again when the blob is written. A blob already being written passes.
     *
     * @throws InsufficientStorageException if it does not fit even after reclaiming
     */
    public void makeRoom(Digest digest, long bytes) throws IOException {
        Objects.requireNonNull(digest, "digest");
        ensureOpen();
        if (contains(digest) || reservations.containsKey(digest)) {
            return;
        }
        reserve(digest, bytes).close();
    }

    /** Reserves {@code bytes} for a blob, reclaiming space once if they are lacking. */
    private Reservation reserve(Digest digest, long bytes) throws IOException {
        boolean reclaimed = false;
        while (true) {
            long lacking;
            synchronized (spaceLock) {
                long available = usableSpace() - reserved - SPACE_MARGIN;
                lacking = bytes - available;
                if (lacking <= 0) {
                    reserved += bytes;
                    Reservation r = new Reservation(digest, bytes);
                    reservations.merge(digest, r, (a, b) -> a); // makeRoom's check only needs one per digest
                    return r;
                }
                SpaceReclaimer rc = reclaimer;
                if (reclaimed || rc == null) {
                    LOG.info("event=store_full root={} blob={} needed={} available={} reclaimed={}", root, digest,
                            bytes, available, reclaimed);
                    throw new InsufficientStorageException(root, digest, bytes, available, reclaimed
                            ? "after evicting the unpinned layers the cache could spare"
                            : "and no cache to evict from", null);
                }
            }
            SpaceReclaimer rc = reclaimer;
            long freed = rc == null ? 0 : rc.reclaim(lacking);
            LOG.info("event=store_space_reclaimed root={} blob={} lacking={} freed={}", root, digest, lacking, freed);
            reclaimed = true;
        }
    }

    private long usableSpace() {
        try {
            return fileStore.getUsableSpace();
        } catch (IOException e) {
            LOG.warn("event=store_space_unknown root={} error={}", root, e.toString());
            return Long.MAX_VALUE / 4; // unknown: let the write find out
        }
    }

    /** A write's error as {@link InsufficientStorageException} if the disk was full, else unchanged. */
    IOException diskFull(IOException e, Digest digest, long bytes) {
        if (e instanceof InsufficientStorageException) {
            return e;
        }
        String m = e.getMessage();
        if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
            long available;
            synchronized (spaceLock) {
                available = usableSpace() - reserved - SPACE_MARGIN;
            }
            LOG.info("event=store_full root={} blob={} needed={} available={} during=write", root, digest, bytes,
                    available);
            return new InsufficientStorageException(root, digest, bytes, available,
                    "the file system filled up while it was written (" + m + ")", e);
        }
        return e;
    }

    /**
     * Bytes reserved for one blob being written; each write consumes its share, close releases the
     * rest. Idempotent close.
     */
    final class Reservation implements AutoCloseable {
        private final Digest digest;
        private long remaining; // guarded by spaceLock

        private Reservation(Digest digest, long bytes) {
            this.digest = digest;
            this.remaining = bytes;
        }

        /** {@code n} more bytes of the blob are on disk now, so they no longer count as reserved. */
        void consumed(long n) {
            synchronized (spaceLock) {
                long d = Math.min(n, remaining);
                remaining -= d;
                reserved -= d;
            }
        }

        @Override
        public void close() {
            synchronized (spaceLock) {
                reserved -= remaining;
                remaining = 0;
            }
            reservations.remove(digest, this);
        }
    }

    /**
     * Re-hashes a committed blob (e.g. after a crash or to detect disk corruption).
     *
     * @throws NoSuchFileException if absent
     * @throws DigestMismatchException if its content no longer matches its digest
     */
    public void verify(Digest digest) throws IOException {
        MessageDigest md = digest.newMessageDigest();
        long total = 0;
        try (InputStream in = open(digest)) {
            byte[] buf = new byte[BUFFER];
            int n;
            while ((n = in.read(buf)) != -1) {
                md.update(buf, 0, n);
                total += n;
            }
        }
        Digest actual = Digest.fromHash(digest.algorithm(), md.digest());
        if (!actual.equals(digest)) {
            throw new DigestMismatchException(digest, actual, "stored blob " + digest
                    + " is corrupt: content (" + total + " bytes) hashes to " + actual);
        }
    }

    /**
     * Re-hashes a committed blob a reader found wrong (bit rot on disk) and deletes it if it no longer
     * matches its digest, so it is neither served nor announced again and the next request fetches a
     * good copy; listeners see an ordinary deletion. A blob that checks out (e.g. already replaced by a
     * good copy) is kept: the re-hash, not the reader's word, decides.
     *
     * @return whether the blob was corrupt and is now deleted
     */
    public boolean deleteIfCorrupt(Digest digest) throws IOException {
        try {
            verify(digest);
            return false;
        } catch (NoSuchFileException e) {
            return false;
        } catch (DigestMismatchException e) {
            boolean deleted = delete(digest);
            LOG.warn("event=blob_corrupt digest={} deleted={} reason=\"{}\"", digest, deleted, e.getMessage());
            return deleted;
        }
    }

    /**
     * Removes a committed blob. Open streams on it keep working.
     *
     * @return whether it existed
     */
    public boolean delete(Digest digest) throws IOException {
        ensureOpen();
        Path p = pathFor(digest);
        boolean deleted;
        long size;
        synchronized (publishLock) {
            size = size(digest).orElse(0);
            deleted = Files.deleteIfExists(p);
            if (deleted) {
                totalBytes.addAndGet(-size);
                fsyncDir(p.getParent());
            }
        }
        if (deleted) {
            LOG.debug("store.delete digest={} size={}", digest, size);
            for (StoreListener l : listeners) {
                try {
                    l.onDeleted(digest);
                } catch (RuntimeException e) {
                    LOG.warn("store.listener.failed event=deleted digest={}", digest, e);
                }
            }
        }
        return deleted;
    }

    /** All committed blobs, sorted by digest. Files that are not valid digests are ignored. */
    public List<BlobInfo> list() throws IOException {
        List<BlobInfo> out = new ArrayList<>();
        for (Digest.Algorithm alg : Digest.Algorithm.values()) {
            Path dir = blobs.resolve(alg.label());
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path p : ds) {
                    Digest d;
                    try {
                        d = new Digest(alg, p.getFileName().toString());
                    } catch (IllegalArgumentException e) {
                        continue;
                    }
                    size(d).ifPresent(s -> out.add(new BlobInfo(d, s)));
                }
            }
        }
        Collections.sort(out, (a, b) -> a.digest().compareTo(b.digest()));
        return out;
    }

    /** Sum of the sizes of all committed blobs. */
    public long totalBytes() {
        return totalBytes.get();
    }

    /** Registers a listener for commits and deletions. */
    public void addListener(StoreListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Unregisters a listener. */
    public void removeListener(StoreListener listener) {
        listeners.remove(listener);
    }

    /** Releases ownership of the store directory. In-flight partial blobs should be aborted first. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            lock.release();
        } finally {
            lockChannel.close();
        }
    }

    @Override
    public String toString() {
        return "ContentStore[" + root + "]";
    }

    // ---- package-private mechanism shared with PartialBlob ----

    Path pathFor(Digest digest) {
        Objects.requireNonNull(digest, "digest");
        return blobs.resolve(digest.algorithm().label()).resolve(digest.hex());
    }

    /** Moves a verified, fsynced temp file into place; a no-op if the blob already exists. */
    void publish(Path tmp, Digest digest, long size) throws IOException {
        ensureOpen();
        Path target = pathFor(digest);
        boolean added;
        synchronized (publishLock) {
            if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                deleteQuietly(tmp);
                added = false;
            } else {
                Files.createDirectories(target.getParent());
                try {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r--r--r--"));
                } catch (UnsupportedOperationException e) {
                    // Non-POSIX file system: read-only protection is best effort.
                }
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    throw new IOException("store " + root + " needs a file system with atomic rename", e);
                } catch (FileAlreadyExistsException e) {
                    deleteQuietly(tmp);
                    return;
                }
                fsyncDir(target.getParent());
                totalBytes.addAndGet(size);
                added = true;
            }
        }
        if (added) {
            LOG.debug("store.commit digest={} size={}", digest, size);
            for (StoreListener l : listeners) {
                try {
                    l.onCommitted(digest, size);
                } catch (RuntimeException e) {
                    LOG.warn("store.listener.failed event=committed digest={}", digest, e);
                }
            }
        }
    }

    private Path newTempPath(Digest digest) {
        return ingest.resolve(digest.algorithm().label() + "-" + digest.shortHex(16) + "-"
                + UUID.randomUUID() + ".tmp");
    }

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("content store " + root + " is closed");
        }
    }

    private static NoSuchFileException notFound(Digest d, Path p) {
        return new NoSuchFileException(p.toString(), null, "blob " + d + " is not in the store");
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("store.tempDeleteFailed path={} error={}", p, e.toString());
        }
    }

    static void fsyncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
