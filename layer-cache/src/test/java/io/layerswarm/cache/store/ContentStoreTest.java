package io.layerswarm.cache.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import io.layerswarm.testing.Await;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContentStoreTest {
    @TempDir
    Path dir;

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static long filesUnder(Path p) throws IOException {
        try (Stream<Path> s = Files.list(p)) {
            return s.count();
        }
    }

    @Test
    void ingestReadListDeleteAndListenerEvents() throws Exception {
        byte[] data = random(200_000, 1);
        Digest d = Digest.sha256(data);
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        try (ContentStore store = ContentStore.open(dir)) {
            store.addListener(new StoreListener() {
                @Override
                public void onCommitted(Digest digest, long size) {
                    events.add("committed " + digest + " " + size);
                }

                @Override
                public void onDeleted(Digest digest) {
                    events.add("deleted " + digest);
                }
            });
            assertFalse(store.contains(d));
            assertEquals(data.length, store.ingest(d, data.length, new ByteArrayInputStream(data)));
            assertTrue(store.contains(d));
            assertEquals(data.length, store.size(d).getAsLong());
            assertEquals(data.length, store.totalBytes());
            try (InputStream in = store.open(d)) {
                assertArrayEquals(data, in.readAllBytes());
            }
            assertEquals(dir.resolve("blobs/sha256/" + d.hex()).toAbsolutePath(), store.blobPath(d));
            assertEquals(List.of(new BlobInfo(d, data.length)), store.list());
            // A second ingest of a present blob does not read the stream.
            InputStream untouched = new InputStream() {
                @Override
                public int read() {
                    throw new AssertionError("stream must not be read");
                }
            };
            assertEquals(data.length, store.ingest(d, untouched));
            store.verify(d);
            assertTrue(store.delete(d));
            assertFalse(store.delete(d));
            assertFalse(store.contains(d));
            assertEquals(0, store.totalBytes());
            assertEquals(List.of("committed " + d + " " + data.length, "deleted " + d), events);
            NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> store.open(d));
            assertTrue(e.getMessage().contains("not in the store"), e.getMessage());
            assertThrows(NoSuchFileException.class, () -> store.blobPath(d));
        }
    }

    @Test
    void digestOrSizeMismatchLeavesNothing() throws Exception {
        byte[] data = random(100_000, 2);
        Digest d = Digest.sha256(data);
        byte[] tampered = data.clone();
        tampered[500] ^= 1;
        try (ContentStore store = ContentStore.open(dir)) {
            DigestMismatchException e = assertThrows(DigestMismatchException.class,
                    () -> store.ingest(d, new ByteArrayInputStream(tampered)));
            assertEquals(d, e.expected());
            assertEquals(Optional.of(Digest.sha256(tampered)), e.actual());
            assertTrue(e.getMessage().contains(d.toString()), e.getMessage());
            // Too many bytes: stops reading right after the announced size.
            assertThrows(DigestMismatchException.class,
                    () -> store.ingest(d, data.length - 1, new ByteArrayInputStream(data)));
            // Too few bytes.
            assertThrows(DigestMismatchException.class,
                    () -> store.ingest(d, data.length + 1, new ByteArrayInputStream(data)));
            assertFalse(store.contains(d));
            assertEquals(List.of(), store.list());
            assertEquals(0, filesUnder(dir.resolve("ingest")));
            assertEquals(0, store.totalBytes());
            // And the right content still goes in afterwards.
            store.ingest(d, data.length, new ByteArrayInputStream(data));
            assertTrue(store.contains(d));
            // Known size, wrong announcement for a present blob.
            assertThrows(DigestMismatchException.class,
                    () -> store.ingest(d, 5, new ByteArrayInputStream(data)));
        }
    }

    /** A stream that records being read and trickles its bytes out slowly. */
    static final class SlowStream extends InputStream {
        private final InputStream in;
        private final AtomicInteger readers;
        private boolean counted;

        SlowStream(byte[] data, AtomicInteger readers) {
            this.in = new ByteArrayInputStream(data);
            this.readers = readers;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (!counted) {
                counted = true;
                readers.incrementAndGet();
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            return in.read(b, off, Math.min(len, 4096));
        }
    }

    @Test
    void concurrentIngestsOfSameDigestCoalesce() throws Exception {
        byte[] data = random(120_000, 3); // ~30 slow reads of 4 KiB, about 300 ms
        Digest d = Digest.sha256(data);
        AtomicInteger streamsRead = new AtomicInteger();
        AtomicInteger commits = new AtomicInteger();
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (ContentStore store = ContentStore.open(dir)) {
            store.addListener(new StoreListener() {
                @Override
                public void onCommitted(Digest digest, long size) {
                    commits.incrementAndGet();
                }
            });
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<Long>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return store.ingest(d, data.length, new SlowStream(data, streamsRead));
                }));
            }
            for (Future<Long> f : results) {
                assertEquals(data.length, f.get(30, TimeUnit.SECONDS));
            }
            assertEquals(1, streamsRead.get(), "exactly one caller should have written the blob");
            assertEquals(1, commits.get());
            store.verify(d);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void waiterRetriesWithItsOwnStreamWhenFirstIngestFails() throws Exception {
        byte[] data = random(50_000, 4);
        Digest d = Digest.sha256(data);
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (ContentStore store = ContentStore.open(dir)) {
            Future<Long> bad = pool.submit(() -> store.ingest(d, new InputStream() {
                int n;

                @Override
                public int read() throws IOException {
                    if (n == 0) {
                        firstStarted.countDown();
                        try {
                            releaseFirst.await();
                        } catch (InterruptedException e) {
                            throw new IOException(e);
                        }
                    }
                    return n++ < 10 ? 'x' : -1;
                }
            }));
            assertTrue(firstStarted.await(10, TimeUnit.SECONDS));
            AtomicInteger readers = new AtomicInteger();
            CompletableFuture<Long> good = new CompletableFuture<>();
            Thread second = new Thread(() -> {
                try {
                    good.complete(store.ingest(d, new SlowStream(data, readers)));
                } catch (Throwable t) {
                    good.completeExceptionally(t);
                }
            }, "second-ingest");
            second.setDaemon(true);
            second.start();
            // The second caller must park on the first one's ingest, not read its own stream in parallel.
            Await.until(Duration.ofSeconds(30), "the second caller waits on the first ingest",
                    () -> Await.isBlockedIn(second, CompletableFuture.class));
            assertEquals(0, readers.get(), "second caller must wait, not write in parallel");
            releaseFirst.countDown();
            Exception e = assertThrows(Exception.class, () -> bad.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof DigestMismatchException, e.toString());
            assertEquals(data.length, good.get(10, TimeUnit.SECONDS));
            assertEquals(1, readers.get());
            store.verify(d);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void partialBlobWithOutOfOrderPiecesFromSeveralThreads() throws Exception {
        byte[] data = random(1_000_003, 5);
        Digest d = Digest.sha256(data);
        int piece = 65_536;
        List<Integer> offsets = new ArrayList<>();
        for (int off = 0; off < data.length; off += piece) {
            offsets.add(off);
        }
        Collections.shuffle(offsets, new Random(7));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (ContentStore store = ContentStore.open(dir); PartialBlob pb = store.openPartial(d, data.length)) {
            // Hold back the first piece to check an incomplete commit is refused.
            int held = offsets.remove(0);
            List<Future<?>> fs = new ArrayList<>();
            for (int off : offsets) {
                fs.add(pool.submit(() -> {
                    pb.write(off, ByteBuffer.wrap(data, off, Math.min(piece, data.length - off)));
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertFalse(pb.isComplete());
            IOException inc = assertThrows(IOException.class, pb::commit);
            assertTrue(inc.getMessage().contains("incomplete"), inc.getMessage());
            assertFalse(store.contains(d));
            assertThrows(IllegalArgumentException.class, () -> pb.write(data.length - 1, ByteBuffer.allocate(2)));
            assertThrows(IllegalArgumentException.class, () -> pb.write(-1, ByteBuffer.allocate(1)));
            // Overlapping rewrite of the held piece in two halves.
            pb.write(held + 100, ByteBuffer.wrap(data, held + 100, Math.min(piece, data.length - held) - 100));
            pb.write(held, ByteBuffer.wrap(data, held, 200));
            assertTrue(pb.isComplete());
            assertEquals(data.length, pb.bytesWritten());
            pb.commit();
            assertTrue(store.contains(d));
            try (InputStream in = store.open(d)) {
                assertArrayEquals(data, in.readAllBytes());
            }
            assertThrows(IllegalStateException.class, () -> pb.write(0, ByteBuffer.allocate(1)));
            assertEquals(0, filesUnder(dir.resolve("ingest")));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void partialBlobMovesPiecesLargerThanOneFileSliceIntact() throws Exception {
        // pieces of several MAX_IO slices plus a remainder, from the middle of a larger array
        byte[] data = random(3 * PartialBlob.MAX_IO + 12_345, 8);
        Digest d = Digest.sha256(data);
        int first = 2 * PartialBlob.MAX_IO + 7;
        byte[] padded = new byte[data.length + 20];
        System.arraycopy(data, 0, padded, 10, data.length);
        try (ContentStore store = ContentStore.open(dir); PartialBlob pb = store.openPartial(d, data.length)) {
            ByteBuffer head = ByteBuffer.wrap(padded, 10, first);
            pb.write(0, head);
            assertFalse(head.hasRemaining(), "write consumes the whole buffer");
            pb.write(first, ByteBuffer.wrap(padded, 10 + first, data.length - first));
            ByteBuffer back = pb.read(5, data.length - 9);
            assertEquals(data.length - 9, back.remaining());
            byte[] got = new byte[back.remaining()];
            back.get(got);
            assertArrayEquals(Arrays.copyOfRange(data, 5, data.length - 4), got);
            pb.commit();
            try (InputStream in = store.open(d)) {
                assertArrayEquals(data, in.readAllBytes());
            }
        }
    }

    @Test
    void partialBlobWithCorruptPieceIsDiscarded() throws Exception {
        byte[] data = random(10_000, 6);
        Digest d = Digest.sha256(data);
        try (ContentStore store = ContentStore.open(dir)) {
            PartialBlob pb = store.openPartial(d, data.length);
            byte[] bad = data.clone();
            bad[9_999] ^= 0x40;
            pb.write(5_000, ByteBuffer.wrap(bad, 5_000, 5_000));
            pb.write(0, ByteBuffer.wrap(bad, 0, 5_000));
            assertThrows(DigestMismatchException.class, pb::commit);
            assertFalse(store.contains(d));
            assertEquals(0, filesUnder(dir.resolve("ingest")));
            PartialBlob aborted = store.openPartial(d, data.length);
            aborted.write(0, ByteBuffer.wrap(data, 0, 10));
            aborted.abort();
            aborted.abort();
            assertEquals(0, filesUnder(dir.resolve("ingest")));
        }
    }

    @Test
    void deleteIfCorruptKeepsAGoodBlobAndDeletesARottedOneTellingListeners() throws Exception {
        byte[] data = random(100_000, 9);
        Digest d = Digest.sha256(data);
        List<Digest> deleted = Collections.synchronizedList(new ArrayList<>());
        try (ContentStore store = ContentStore.open(dir)) {
            store.addListener(new StoreListener() {
                @Override
                public void onDeleted(Digest digest) {
                    deleted.add(digest);
                }
            });
            store.ingest(d, new ByteArrayInputStream(data));
            assertFalse(store.deleteIfCorrupt(d), "a good blob is kept");
            assertTrue(store.contains(d));
            Path file = store.blobPath(d);
            file.toFile().setWritable(true);
            byte[] rotted = data.clone();
            rotted[50_000] ^= 0x04;
            Files.write(file, rotted);
            assertTrue(store.deleteIfCorrupt(d));
            assertFalse(store.contains(d));
            assertEquals(List.of(d), deleted, "caches and announcements hear of it as of any deletion");
            assertEquals(0, store.totalBytes());
            assertFalse(store.deleteIfCorrupt(d), "an absent blob is not an error");
        }
    }

    @Test
    void secondOwnerIsRefusedAndReopenCleansStaleTempFiles() throws Exception {
        byte[] data = random(1000, 8);
        Digest d = Digest.sha256(data);
        try (ContentStore store = ContentStore.open(dir)) {
            store.ingest(d, new ByteArrayInputStream(data));
            IOException e = assertThrows(IOException.class, () -> ContentStore.open(dir));
            assertTrue(e.getMessage().contains("already open"), e.getMessage());
        }
        Files.write(dir.resolve("ingest/leftover.tmp"), new byte[] {1, 2, 3});
        Files.write(dir.resolve("blobs/sha256/not-a-digest"), new byte[] {1});
        try (ContentStore store = ContentStore.open(dir)) {
            assertEquals(0, filesUnder(dir.resolve("ingest")));
            assertEquals(List.of(new BlobInfo(d, data.length)), store.list());
            assertEquals(data.length, store.totalBytes());
            store.verify(d);
        }
        ContentStore closed = ContentStore.open(dir);
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.ingest(d, new ByteArrayInputStream(data)));
    }

    @Test
    void aBlobThatDoesNotFitAsksTheReclaimerOnceThenFailsNamingTheSpace() throws Exception {
        List<Long> asked = Collections.synchronizedList(new ArrayList<>());
        try (ContentStore store = ContentStore.open(dir)) {
            store.setSpaceReclaimer(bytes -> {
                asked.add(bytes);
                return 0;
            });
            long tooBig = store.availableBytes() + (1L << 40);
            Digest d = Digest.sha256(random(10, 9));
            InsufficientStorageException e = assertThrows(InsufficientStorageException.class,
                    () -> store.openPartial(d, tooBig));
            assertTrue(e.getMessage().startsWith("not enough space in store " + store.root() + " for blob " + d
                    + " (" + tooBig + " bytes)"), e.getMessage());
            assertEquals(d, e.digest());
            assertEquals(1, asked.size(), "reclaimer asked once");
            assertTrue(asked.get(0) >= 1L << 40, "asked for what was lacking: " + asked);
            assertThrows(InsufficientStorageException.class, () -> store.makeRoom(d, tooBig));
            assertThrows(InsufficientStorageException.class,
                    () -> store.ingest(d, tooBig, new ByteArrayInputStream(new byte[0])));
            assertEquals(0, filesUnder(dir.resolve("ingest")), "no temp file");

            // a blob being written holds its bytes: the space a reservation takes is not offered twice
            // (64 MiB slack either way: other processes write to the same file system meanwhile)
            long most = store.availableBytes() - (64L << 20);
            try (PartialBlob first = store.openPartial(d, most)) {
                Digest other = Digest.sha256(random(10, 10));
                assertThrows(InsufficientStorageException.class, () -> store.openPartial(other, 128L << 20));
                store.makeRoom(d, most); // the blob already being written passes
            }
            store.makeRoom(Digest.sha256(random(10, 11)), most); // released by the abort
        }
    }
}
