package io.layerswarm.swarm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.layerswarm.oci.Digest;
import io.layerswarm.testing.Await;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Endgame with every copy of the last piece on peers that froze (a stopped process keeps its socket
 * and answers nothing, so no error ever arrives): a live peer must be asked for it once those copies
 * are overdue by the peers' measured rate, not only when the request timeout (floored at minutes here)
 * fires. Runs on a manual clock, so nothing depends on the machine's speed.
 */
class FrozenEndgameTest {
    private static final int PIECE = 64 * 1024;
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final SwarmLoop loop = new SwarmLoop(clock::get);

    @AfterEach
    void tearDown() {
        loop.close();
    }

    /** A source whose requests the test answers by hand. */
    private static final class ManualSource implements PieceSource {
        record Pending(long offset, int length, CompletableFuture<ByteBuffer> future) {
        }

        final String id;
        final byte[] blob;
        final List<Pending> requests = new CopyOnWriteArrayList<>();

        ManualSource(String id, byte[] blob) {
            this.id = id;
            this.blob = blob;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public boolean isOrigin() {
            return false;
        }

        @Override
        public CompletableFuture<ByteBuffer> fetch(long offset, int length) {
            Pending p = new Pending(offset, length, new CompletableFuture<>());
            requests.add(p);
            return p.future();
        }

        void answer(int request) {
            Pending p = requests.get(request);
            p.future().complete(ByteBuffer.wrap(blob, (int) p.offset(), p.length()).slice());
        }
    }

    private record Started(byte[] blob, PieceLayout layout, MemorySink sink, BlobDownload download, ManualSource a,
                           ManualSource b) {
    }

    /**
     * A download of a random blob of {@code pieces} pieces from peers a and b, one request per peer,
     * the timeout floor far beyond anything the clock reaches; returns once each was asked once.
     */
    private Started start(int pieces, int seed, int endgameCopies) throws Exception {
        byte[] blob = new byte[pieces * PIECE];
        new Random(seed).nextBytes(blob);
        Digest digest = Digest.sha256(blob);
        PieceLayout layout = new PieceLayout(blob.length, PIECE);
        PieceHashes hashes = PieceHashes.compute(digest, layout, new ByteArrayInputStream(blob));
        MemorySink sink = new MemorySink(digest, blob.length);
        DownloadConfig cfg = new DownloadConfig(1, 1, Duration.ofMinutes(10), 4.0, 3, Duration.ofMinutes(5),
                endgameCopies, Duration.ofMillis(10));
        BlobDownload d = BlobDownload.start(loop, hashes, sink, PiecePicker.rarestFirst(), OriginGate.whenNoPeerHolds(), cfg,
                null, null);
        ManualSource a = new ManualSource("a", blob);
        ManualSource b = new ManualSource("b", blob);
        d.addSource(a, Bitfield.full(layout.count()));
        d.addSource(b, Bitfield.full(layout.count()));
        Await.until(Duration.ofSeconds(30), "a and b asked once each",
                () -> a.requests.size() == 1 && b.requests.size() == 1);
        return new Started(blob, layout, sink, d, a, b);
    }

    @Test
    void theLastPieceHeldOnlyByFrozenPeersGoesToALivePeerBeforeTheTimeout() throws Exception {
        // two copies in endgame
        Started t = start(3, 7, 2);
        byte[] blob = t.blob();
        MemorySink sink = t.sink();
        BlobDownload d = t.download();
        ManualSource a = t.a();
        ManualSource b = t.b();

        // a answers in 10 ms and is asked for the third piece; b answers in 20 ms and, in endgame, copies it
        clock.addAndGet(10_000_000L);
        a.answer(0);
        Await.until(Duration.ofSeconds(30), "a asked for the last piece", () -> a.requests.size() == 2);
        clock.addAndGet(10_000_000L);
        b.answer(0);
        Await.until(Duration.ofSeconds(30), "b copies a's request", () -> b.requests.size() == 2);
        assertEquals(a.requests.get(1).offset(), b.requests.get(1).offset());

        // both freeze; a live peer arrives; a second passes: 25-50x what a and b took per piece
        ManualSource c = new ManualSource("c", blob);
        d.addSource(c, Bitfield.full(t.layout().count()));
        clock.addAndGet(1_000_000_000L);
        Await.until(Duration.ofSeconds(30), "c asked for the piece a and b hold up", () -> c.requests.size() == 1);
        assertEquals(a.requests.get(1).offset(), c.requests.get(0).offset());
        c.answer(0);
        d.completion().get(30, TimeUnit.SECONDS);
        assertArrayEquals(blob, sink.data);
    }

    /**
     * A peer asked before anything was measured of it (a pull's first requests) that then froze: once
     * another peer has been measured, the frozen peer's request is overdue by that peer's time per
     * piece, so the live peer copies it; before, the request kept its unmeasured allowance (4 x the
     * timeout floor) and the live peer sat idle until the timeout.
     */
    @Test
    void aRequestSentBeforeItsPeerWasMeasuredIsCopiedOnceAnotherPeerIsMeasured() throws Exception {
        // one copy in endgame, so the frozen request alone blocks a copy; neither peer measured yet
        Started t = start(2, 8, 1);
        ManualSource a = t.a();
        ManualSource b = t.b();

        // a answers in 10 ms; b froze. A second passes: 100x what a took per piece
        clock.addAndGet(10_000_000L);
        a.answer(0);
        // the loop records a's time when it handles the answer: only then may the clock move on
        Await.until(Duration.ofSeconds(30), "a measured at 10 ms per piece",
                () -> loop.call(() -> loop.stats("a").bytesPerSecond() > 0).join());
        assertEquals(1, a.requests.size(), "b's request is not overdue yet, nothing to copy");
        clock.addAndGet(1_000_000_000L);
        Await.until(Duration.ofSeconds(30), "a asked for the piece b holds up", () -> a.requests.size() == 2);
        assertEquals(b.requests.get(0).offset(), a.requests.get(1).offset());
        a.answer(1);
        t.download().completion().get(30, TimeUnit.SECONDS);
        assertArrayEquals(t.blob(), t.sink().data);
    }
}
