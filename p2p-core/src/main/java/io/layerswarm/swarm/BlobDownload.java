package io.layerswarm.swarm;

import io.layerswarm.oci.DigestMismatchException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ForkJoinPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads one blob in verified pieces from several sources at once. All state lives on the
 * {@link SwarmLoop}; the public methods only post events to it.
 *
 * <p>Each source gets up to a few pipelined requests; the {@link PiecePicker} chooses among the
 * pieces it holds. Faster sources finish sooner and so are asked again sooner. A request that takes
 * several times its expected duration is given up and reassigned; repeated failures blacklist the
 * source, and a source that sends a piece not matching its hash is blacklisted at once. When every
 * missing piece is already requested (endgame) idle sources duplicate outstanding requests. The
 * registry is asked only for pieces its {@link OriginGate} allows, lowest first.
 *
 * <p>The registry is never blacklisted: it is often the only source of a blob, and a blacklist entry is
 * shared by every download of the node, so a loaded uplink that timed out three requests used to stall
 * every fetch for the ban duration. A failed or timed-out registry request instead pauses the
 * download's registry requests for a backoff that doubles with each consecutive failure
 * ({@value #ORIGIN_BACKOFF_MIN_MILLIS} ms up to {@value #ORIGIN_BACKOFF_MAX_MILLIS} ms), and each
 * timeout doubles the allowance of its later registry requests (up to {@value #ORIGIN_MAX_SLACK} times); a
 * streaming registry request past its allowance is not given up while its bytes still arrive.
 * Full-length registry bytes are the root of trust: they settle the piece's hash even against one a
 * peer announced, since the blob digest checks them at the end.
 */
public final class BlobDownload {
    private static final Logger log = LoggerFactory.getLogger(BlobDownload.class);
    /** Throughput assumed for a source nothing has been received from yet (a LAN-class peer). */
    private static final double ASSUMED_BYTES_PER_SECOND = 50e6;
    /** First pause of the registry requests after a failed one. */
    static final long ORIGIN_BACKOFF_MIN_MILLIS = 250;
    /** Longest pause of the registry requests after consecutive failures. */
    static final long ORIGIN_BACKOFF_MAX_MILLIS = 8_000;
    /** Largest factor by which timeouts stretch the allowance of registry requests. */
    static final int ORIGIN_MAX_SLACK = 8;

    /** Thrown (as the completion's cause) when all pieces verified but the blob did not: the piece hashes lied. */
    public static final class BadPieceHashesException extends IOException {
        private static final long serialVersionUID = 1L;

        BadPieceHashesException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Callbacks from the loop thread; must not block. */
    public interface Listener {
        /**
         * Piece {@code piece} is verified and written: it may now be served to others.
         *
         * @param hash its sha256, to pass on to nodes that do not know it yet
         */
        default void pieceVerified(int piece, byte[] hash) {
        }

        /** Piece {@code piece} of {@code bytes} bytes from {@code sourceId} was verified and written (for accounting). */
        default void pieceAccepted(int piece, String sourceId, boolean origin, int bytes) {
        }

        /** Piece {@code piece} from {@code sourceId} did not match its hash and was thrown away. */
        default void pieceRejected(int piece, String sourceId) {
        }

        /** Piece {@code piece} was just requested from the origin. */
        default void originRequested(int piece) {
        }

        /**
         * Piece {@code piece} is being written by the origin into {@code region}, in order, as its bytes
         * arrive: a reader may look at them before the piece is complete (see {@link PieceProgress#arriving}).
         * If those bytes turn out not to be the piece's (the request failed, timed out, or another copy
         * won), the region is {@linkplain PieceRegion#revoked() revoked} before the piece is verified.
         */
        default void originArriving(int piece, PieceRegion region) {
        }

        /**
         * A registry request for {@code piece} failed or timed out ({@code failures} in a row): registry
         * requests pause for {@code backoffMillis}; the registry is not banned.
         */
        default void originRetry(int piece, int failures, long backoffMillis) {
        }

        /** A source sent a bad piece or failed repeatedly and was banned (never the registry). */
        default void sourceBanned(String sourceId, boolean origin, String reason) {
        }
    }

    private final SwarmLoop loop;
    private final io.layerswarm.oci.Digest blob;
    private final PieceHashBook hashes;
    private final PieceLayout layout;
    private final PieceSink sink;
    private final PiecePicker picker;
    private final OriginGate originGate;
    private final DownloadConfig config;
    private final Listener listener;
    private final CompletableFuture<DownloadResult> completion = new CompletableFuture<>();
    private final Random random;

    // --- loop-owned state ---
    private final Map<String, SourceState> sources = new LinkedHashMap<>();
    private final BitSet have;
    private final Map<Integer, List<Request>> inflight = new HashMap<>();
    private final Map<String, Long> bytesBySource = new HashMap<>();
    private int[] availability;
    private boolean availabilityDirty = true;
    /**
     * The sources that were banned when {@link #availability} was counted. The blacklist is the node's: a
     * ban made by another download (or one expiring) changes this download's holders without any event of
     * its own, and a stale count kept the registry closed to pieces whose every holder was banned (a
     * testbed pull waited out the 5 min ban).
     */
    private Set<String> bannedWhenCounted = Set.of();
    private long originBytes;
    private int badPieces;
    private long startNanos;
    private long lastPeerProgressNanos;
    private boolean finished;
    private boolean schedulePending;
    /** Registry requests wait until then after a failure ({@link #loop}'s clock); 0 when not backing off. */
    private long originRetryNanos;
    /** Consecutive failed registry requests of this download. */
    private int originFailures;
    /** Factor on the allowance of registry requests: doubled by each registry timeout, up to {@link #ORIGIN_MAX_SLACK}. */
    private int originSlack = 1;
    /**
     * Registry requests past their deadline that were still receiving bytes: {written, when it last grew}.
     * Cancelling such a request would throw away what already crossed the uplink and ask for it again.
     */
    private final Map<Request, long[]> originArrival = new java.util.IdentityHashMap<>();
    private java.util.concurrent.ScheduledFuture<?> ticker;

    private static final class SourceState {
        final PieceSource source;
        BitSet has;
        int inflight;

        SourceState(PieceSource source, BitSet has) {
            this.source = source;
            this.has = has;
        }
    }

    /**
     * One request to one source.
     *
     * @param overdueNanos when the request has taken {@code slowFactor} times what the source's measured rate
     *     predicts: from then on it no longer counts toward the endgame copies (see {@link #candidatesFor})
     * @param deadlineNanos when it is given up on and counts as a failure (never before {@code minRequestTimeout})
     * @param unmeasured whether nothing had been measured of the source when it was asked (see {@link #deadlineOf})
     * @param region where a streaming source writes the piece as it arrives; {@code null} if the bytes
     *     come back on the heap (sources that do not stream, and endgame copies, which must not write
     *     over the region another request is writing)
     */
    private record Request(SourceState source, int piece, long startNanos, long overdueNanos, long deadlineNanos,
                           boolean unmeasured, PieceRegion region, CompletableFuture<?> future) {

        /** Gives the request up: the source is asked to stop and may no longer write. */
        void cancel() {
            // revoke first: once it returns no write of this request is in progress or to come, so the
            // interrupt that cancelling sends cannot land in a FileChannel write (an interrupted NIO
            // channel closes, for every writer of the partial blob)
            if (region != null) {
                region.revoke();
            }
            future.cancel(true);
        }
    }

    private BlobDownload(SwarmLoop loop, io.layerswarm.oci.Digest blob, PieceHashBook hashes, PieceSink sink,
                         PiecePicker picker, OriginGate originGate, DownloadConfig config, Listener listener,
                         long seed) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.blob = Objects.requireNonNull(blob, "blob");
        this.hashes = Objects.requireNonNull(hashes, "hashes");
        this.layout = hashes.layout();
        this.sink = Objects.requireNonNull(sink, "sink");
        this.picker = Objects.requireNonNull(picker, "picker");
        this.originGate = Objects.requireNonNull(originGate, "originGate");
        this.config = Objects.requireNonNull(config, "config");
        this.listener = listener == null ? new Listener() { } : listener;
        this.have = new BitSet(layout.count());
        this.random = new Random(seed);
    }

    /**
     * Starts a download with every piece hash known. Sources are added afterwards as they are
     * discovered.
     *
     * @param alreadyHave pieces already verified in the sink (resume), or {@code null}
     */
    public static BlobDownload start(SwarmLoop loop, PieceHashes hashes, PieceSink sink, PiecePicker picker,
                                     OriginGate originGate, DownloadConfig config, Listener listener,
                                     Bitfield alreadyHave) {
        return start(loop, hashes.blob(), PieceHashBook.of(hashes), sink, picker, originGate, config, listener,
                alreadyHave);
    }

    /**
     * Starts a download that learns piece hashes as it goes ({@link #learnHash}). Peers are asked only
     * for pieces whose hash is known; pieces from the origin need none (the blob digest checks them).
     * The book becomes owned by the loop.
     */
    public static BlobDownload start(SwarmLoop loop, io.layerswarm.oci.Digest blob, PieceHashBook book,
                                     PieceSink sink, PiecePicker picker, OriginGate originGate,
                                     DownloadConfig config, Listener listener, Bitfield alreadyHave) {
        BlobDownload d = new BlobDownload(loop, blob, book, sink, picker, originGate, config, listener,
                blob.hex().hashCode() ^ System.nanoTime());
        loop.post(() -> d.onStart(alreadyHave));
        return d;
    }

    /** A source claims piece {@code piece} has sha256 {@code hash}. */
    public void learnHash(String sourceId, int piece, byte[] hash) {
        byte[] h = hash.clone();
        loop.post(() -> {
            if (finished || piece < 0 || piece >= layout.count()) {
                return;
            }
            if (!hashes.learn(piece, h)) {
                log.warn("event=piece_hash_disputed blob={} piece={} source={}", blob.shortHex(12), piece, sourceId);
            }
            schedule();
        });
    }

    /** Completes with the result, or exceptionally (e.g. {@link BadPieceHashesException}). */
    public CompletableFuture<DownloadResult> completion() {
        return completion;
    }

    /** Adds (or replaces) a source holding {@code has}. */
    public void addSource(PieceSource source, Bitfield has) {
        Objects.requireNonNull(source, "source");
        if (has.size() != layout.count()) {
            throw new IllegalArgumentException("bitfield of " + has.size() + " pieces for a blob of " + layout.count());
        }
        BitSet bits = has.toBitSet();
        loop.post(() -> onSourceAdded(source, bits));
    }

    /** A source announced it now holds {@code piece}. */
    public void sourceHas(String sourceId, int piece) {
        loop.post(() -> onSourceHas(sourceId, piece));
    }

    /** Something the {@link OriginGate} looks at changed: schedules again. */
    public void reconsider() {
        loop.post(this::schedule);
    }

    /** A source went away (disconnected): its requests are reassigned. */
    public void removeSource(String sourceId) {
        loop.post(() -> onSourceRemoved(sourceId));
    }

    /** Gives up: outstanding requests are cancelled and the sink aborted. */
    public void cancel() {
        loop.post(() -> fail(new java.util.concurrent.CancellationException("download cancelled")));
    }

    // ---------------------------------------------------------------- events, all on the loop thread

    private void onStart(Bitfield alreadyHave) {
        startNanos = loop.nanoTime();
        lastPeerProgressNanos = startNanos;
        if (alreadyHave != null) {
            have.or(alreadyHave.toBitSet());
            have.clear(layout.count(), Math.max(layout.count(), have.length()));
        }
        ticker = loop.every(config.tick().toMillis(), this::onTick);
        maybeComplete();
    }

    private void onSourceAdded(PieceSource source, BitSet bits) {
        if (finished) {
            return;
        }
        SourceState old = sources.remove(source.id());
        if (old != null) {
            cancelRequestsOf(old);
        }
        sources.put(source.id(), new SourceState(source, bits));
        availabilityDirty = true;
        schedule();
    }

    private void onSourceHas(String id, int piece) {
        SourceState s = sources.get(id);
        if (finished || s == null || piece < 0 || piece >= layout.count()) {
            return;
        }
        s.has.set(piece);
        availabilityDirty = true;
        schedule();
    }

    private void onSourceRemoved(String id) {
        SourceState s = sources.remove(id);
        if (s != null) {
            cancelRequestsOf(s);
            availabilityDirty = true;
            schedule();
        }
    }

    /**
     * @param data the piece, or {@code null} if the source wrote it into {@code req}'s region
     * @param sha256 the hash of the piece, computed off the loop
     */
    private void onPieceArrived(Request req, ByteBuffer data, byte[] sha256) {
        // a late answer to a request that timed out is still welcome if it verifies, unless it was
        // written into a region that has since been handed to another request
        removeRequest(req);
        if (finished || (req.region() != null && req.region().revoked())) {
            return;
        }
        int length = data == null ? req.region().length() : data.remaining();
        String id = req.source().source.id();
        if (loop.blacklist().isBanned(id)) {
            return; // answers already in flight when the source was banned
        }
        boolean origin = req.source().source.isOrigin();
        byte[] hash;
        if (origin && length == layout.length(req.piece())) {
            // the registry is the root of trust; the blob digest checks these bytes at the end. A hash
            // announced by a peer that disagrees is the peer's error, not the registry's
            if (hashes.known(req.piece()) && !hashes.matches(req.piece(), length, sha256)) {
                log.warn("event=announced_hash_overruled blob={} piece={}", blob.shortHex(12), req.piece());
            }
            hash = sha256;
            hashes.settle(req.piece(), hash);
        } else if (origin) {
            // a short answer is a failed request, not a lie: the registry is never banned
            onPieceFailed(req, new IOException("registry sent " + length + " of " + layout.length(req.piece())
                    + " bytes of piece " + req.piece()), false);
            return;
        } else if (hashes.known(req.piece())) {
            hash = hashes.matches(req.piece(), length, sha256) ? hashes.hashOf(req.piece()) : null;
        } else {
            hash = null;
        }
        if (hash == null) {
            if (req.region() != null) {
                req.region().revoke(); // its bytes are not the piece's: a reader streaming them must know
            }
            badPieces++;
            listener.pieceRejected(req.piece(), id);
            ban(req.source(), "bad piece " + req.piece());
            schedule();
            return;
        }
        long now = loop.nanoTime();
        log.debug("event=piece_arrived blob={} piece={} source={} ms={}", blob.shortHex(12), req.piece(), id,
                (now - req.startNanos()) / 1_000_000);
        loop.stats(id).recordPiece(length, now - req.startNanos());
        if (!req.source().source.isOrigin()) {
            lastPeerProgressNanos = now;
        } else {
            originFailures = 0;
        }
        if (!have.get(req.piece())) {
            if (data != null) {
                // a copy from the heap: no streaming request of this piece may write after it
                for (Request r : inflight.getOrDefault(req.piece(), List.of())) {
                    if (r.region() != null) {
                        r.region().revoke();
                    }
                }
                try {
                    sink.write(layout.offset(req.piece()), data.duplicate());
                } catch (IOException e) {
                    fail(e);
                    return;
                }
            }
            have.set(req.piece());
            bytesBySource.merge(id, (long) length, Long::sum);
            listener.pieceAccepted(req.piece(), id, origin, length);
            if (req.source().source.isOrigin()) {
                originBytes += length;
            }
            // endgame duplicates of this piece are now waste
            List<Request> dups = inflight.remove(req.piece());
            if (dups != null) {
                for (Request r : dups) {
                    r.source().inflight--;
                    r.cancel();
                }
            }
            listener.pieceVerified(req.piece(), hash);
        }
        maybeComplete();
        schedule();
    }

    private void onPieceFailed(Request req, Throwable error) {
        onPieceFailed(req, error, true);
    }

    /** @param pending whether {@code req} is still in {@link #inflight} (false: already removed) */
    private void onPieceFailed(Request req, Throwable error, boolean pending) {
        if ((pending && !removeRequest(req)) || finished) {
            return;
        }
        SourceState s = req.source();
        Throwable cause = error instanceof java.io.UncheckedIOException u && u.getCause() != null ? u.getCause() : error;
        if (cause instanceof PieceSource.Refusal r && r.busy()) {
            // a busy peer is healthy (it waited for an upload slot before refusing): ask again, do not ban
            log.debug("event=piece_refused_busy blob={} piece={} source={}", blob.shortHex(12), req.piece(), s.source.id());
            schedule();
            return;
        }
        if (cause instanceof PieceSource.Refusal r && r.notHeld() && !s.source.isOrigin()) {
            // stale holdings (a 0-byte cache evicts right after use; its announcement lags): stop asking it
            // for the piece until it announces the piece again. Counting these as failures banned a healthy
            // peer node-wide for 5 minutes in the testbed
            log.debug("event=piece_not_held blob={} piece={} source={}", blob.shortHex(12), req.piece(), s.source.id());
            s.has.clear(req.piece());
            availabilityDirty = true;
            schedule();
            return;
        }
        int failures = loop.stats(s.source.id()).recordFailure();
        log.debug("event=piece_failed blob={} piece={} source={} failures={} error={}", blob.shortHex(12),
                req.piece(), s.source.id(), failures, error.toString());
        if (s.source.isOrigin()) {
            backOffOrigin(req, error);
        } else if (failures >= config.maxConsecutiveFailures()) {
            ban(s, failures + " consecutive failures, last: " + error);
        }
        schedule();
    }

    /**
     * A registry request failed or timed out: registry requests pause for a backoff that doubles with each
     * consecutive failure, and after a timeout later ones are given twice the allowance. The registry is
     * not banned (see the class comment).
     */
    private void backOffOrigin(Request req, Throwable error) {
        originFailures++;
        if (error instanceof java.util.concurrent.TimeoutException && originSlack < ORIGIN_MAX_SLACK) {
            originSlack *= 2;
        }
        long backoffMillis = Math.min(ORIGIN_BACKOFF_MAX_MILLIS,
                ORIGIN_BACKOFF_MIN_MILLIS << Math.min(originFailures - 1, 16));
        originRetryNanos = loop.nanoTime() + backoffMillis * 1_000_000;
        log.warn("event=origin_request_failed blob={} piece={} source={} failures={} retry_in_ms={} slack={} error=\"{}\"",
                blob.shortHex(12), req.piece(), req.source().source.id(), originFailures, backoffMillis, originSlack,
                error.toString());
        listener.originRetry(req.piece(), originFailures, backoffMillis);
    }

    private void onTick() {
        if (finished) {
            return;
        }
        long now = loop.nanoTime();
        List<Request> expired = new ArrayList<>();
        for (List<Request> rs : inflight.values()) {
            for (Request r : rs) {
                if (now - deadlineOf(r) > 0 && !stillArriving(r, now)) {
                    expired.add(r);
                }
            }
        }
        for (Request r : expired) {
            r.cancel();
            onPieceFailed(r, new java.util.concurrent.TimeoutException("piece " + r.piece() + " took longer than "
                    + Duration.ofNanos(deadlineOf(r) - r.startNanos()).toMillis() + " ms"));
        }
        schedule();
    }

    // ---------------------------------------------------------------- scheduling

    /**
     * Asks for one scheduling pass after the events already queued, so that sources discovered together
     * are ranked together rather than served in arrival order.
     */
    private void schedule() {
        if (schedulePending || finished) {
            return;
        }
        schedulePending = true;
        loop.post(() -> {
            schedulePending = false;
            scheduleNow();
        });
    }

    private void scheduleNow() {
        if (finished) {
            return;
        }
        refreshAvailability();
        long now = loop.nanoTime();
        List<SourceState> order = new ArrayList<>(sources.values());
        // the peer expected to deliver a piece soonest first (ping RTT + measured throughput); the registry last
        order.sort(Comparator.<SourceState>comparingInt(s -> s.source.isOrigin() ? 1 : 0)
                .thenComparingDouble(s -> loop.stats(s.source.id())
                        .estimateNanos(layout.pieceSize(), ASSUMED_BYTES_PER_SECOND)));
        BitSet missing = new BitSet(layout.count());
        missing.set(0, layout.count());
        missing.andNot(have);
        for (SourceState s : order) {
            if (loop.blacklist().isBanned(s.source.id())) {
                continue;
            }
            int limit = s.source.isOrigin() ? config.maxInflightOrigin() : config.maxInflightPerPeer();
            while (s.inflight < limit) {
                BitSet candidates = candidatesFor(s, missing, now);
                if (candidates.isEmpty()) {
                    break;
                }
                // the registry's pieces lowest first: a client streaming the blob gets it in order
                request(s, s.source.isOrigin() ? candidates.nextSetBit(0) : picker.pick(candidates, availability, random),
                        now);
            }
        }
    }

    private BitSet candidatesFor(SourceState s, BitSet missing, long now) {
        BitSet c = (BitSet) s.has.clone();
        c.and(missing);
        BitSet unrequested = (BitSet) c.clone();
        for (Integer p : inflight.keySet()) {
            unrequested.clear(p);
        }
        if (s.source.isOrigin()) {
            if (originRetryNanos != 0 && now - originRetryNanos < 0) {
                return new BitSet(); // backing off after a failure; the tick schedules again
            }
            long stalled = now - lastPeerProgressNanos;
            long sinceStart = now - startNanos;
            for (int i = unrequested.nextSetBit(0); i >= 0; i = unrequested.nextSetBit(i + 1)) {
                // a holder whose piece we cannot verify is no holder
                int holders = hashes.known(i) ? availability[i] : 0;
                if (!hashes.disputed(i) && !originGate.mayFetch(i, holders, sinceStart, stalled)) {
                    unrequested.clear(i);
                }
            }
            return unrequested;
        }
        BitSet verifiable = hashes.knownPieces();
        c.and(verifiable);
        unrequested.and(verifiable);
        if (!unrequested.isEmpty()) {
            return unrequested;
        }
        // Endgame: every missing piece this source has is requested already; duplicate the
        // outstanding requests of others, a bounded number of times. Overdue copies do not count: a
        // peer that froze (no RST, nothing answers) would otherwise hold the last pieces until the
        // request timeout, whose floor is seconds, while live peers sit idle.
        BitSet endgame = new BitSet(layout.count());
        for (int i = c.nextSetBit(0); i >= 0; i = c.nextSetBit(i + 1)) {
            List<Request> rs = inflight.get(i);
            if (rs != null && rs.stream().filter(r -> now - overdueOf(r) < 0).count() < config.endgameCopies()
                    && rs.stream().noneMatch(r -> r.source() == s)) {
                endgame.set(i);
            }
        }
        return endgame;
    }

    private void request(SourceState s, int piece, long now) {
        int len = layout.length(piece);
        long expected = loop.stats(s.source.id()).expectedNanos(len, config.minRequestTimeout().toNanos());
        long slow = (long) (expected * config.slowFactor());
        long timeout = Math.max(config.minRequestTimeout().toNanos(), slow);
        if (s.source.isOrigin()) {
            timeout *= originSlack;
        }
        List<Request> copies = inflight.get(piece);
        // one writer per region: only a piece nobody else is fetching is streamed into the sink
        PieceRegion region = s.source instanceof StreamingPieceSource && copies == null
                ? new PieceRegion(sink, layout.offset(piece), len) : null;
        CompletableFuture<?> f;
        try {
            f = region != null ? ((StreamingPieceSource) s.source).fetchInto(layout.offset(piece), region)
                    : s.source.fetch(layout.offset(piece), len);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        if (copies != null && copies.size() >= config.endgameCopies()) {
            log.debug("event=overdue_request_copied blob={} piece={} source={} copies={}", blob.shortHex(12), piece,
                    s.source.id(), copies.size());
        }
        Request r = new Request(s, piece, now, now + Math.min(slow, timeout), now + timeout,
                loop.stats(s.source.id()).bytesPerSecond() <= 0, region, f);
        if (s.source.isOrigin()) {
            listener.originRequested(piece);
            if (region != null) {
                listener.originArriving(piece, region);
            }
        }
        inflight.computeIfAbsent(piece, k -> new ArrayList<>(2)).add(r);
        s.inflight++;
        f.whenComplete((result, failure) -> {
            // hashing a piece takes milliseconds per MiB: done on the thread that received it (a streamed
            // piece was hashed as it was written), not on the loop
            Throwable err = failure;
            ByteBuffer data = result instanceof ByteBuffer b ? b : null;
            byte[] sha256 = null;
            if (err == null && region != null) {
                try {
                    sha256 = region.finish();
                } catch (IOException e) {
                    err = e;
                }
            } else if (err == null && data != null) {
                sha256 = PieceHashBook.sha256(data);
            } else if (region != null) {
                region.revoke(); // failed: whatever it wrote is left for the next request to overwrite
            }
            Throwable error = err;
            byte[] hash = sha256;
            loop.post(() -> {
                if (error != null) {
                    onPieceFailed(r, error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
                } else {
                    onPieceArrived(r, data, hash);
                }
            });
        });
    }

    /**
     * Whether a registry request past its deadline is still receiving its piece: bytes arrived in it within
     * the last {@code minRequestTimeout}. A slow registry (a loaded uplink, a starved machine) then finishes
     * the piece instead of losing it to a timeout and sending it again; a request that stopped receiving
     * times out as before.
     */
    private boolean stillArriving(Request r, long now) {
        if (!r.source().source.isOrigin() || r.region() == null) {
            return false;
        }
        int written = r.region().written();
        long[] seen = originArrival.get(r);
        if (seen == null) {
            if (written == 0) {
                return false;
            }
            originArrival.put(r, new long[] {written, now});
            log.debug("event=origin_request_slow blob={} piece={} written={}", blob.shortHex(12), r.piece(), written);
            return true;
        }
        if (written > seen[0]) {
            seen[0] = written;
            seen[1] = now;
        }
        return now - seen[1] < config.minRequestTimeout().toNanos();
    }

    /**
     * When a request is given up on. A peer nothing has been measured of is given the request timeout
     * floor times {@code slowFactor} (20 s by default) when asked; once other peers of this download
     * have delivered pieces it is judged like the slowest of them instead, so a peer that takes requests
     * and never answers (or drips) fails them, and is banned, within about {@code minRequestTimeout}
     * rather than after the longest allowance. The registry keeps its allowance.
     */
    private long deadlineOf(Request r) {
        long judged = judgedExpectation(r);
        if (judged == 0) {
            return r.deadlineNanos();
        }
        long timeout = Math.max(config.minRequestTimeout().toNanos(), (long) (judged * config.slowFactor()));
        return Math.min(r.deadlineNanos(), r.startNanos() + timeout);
    }

    /**
     * When a request stops counting toward the endgame copies. A request sent before anything was
     * measured of its source got the floor-based allowance (20 s by default); once the source, or the
     * download's other peers, have been measured it is overdue like any other: {@code slowFactor} times
     * the source's own time per piece, or the slowest measured peer's. Without this, a peer that froze
     * right after the pull started (its first requests unmeasured) held the last pieces until the
     * request timeout (5 s) while live peers sat idle, seen as +1.9 s and +5.3 s in bench-deadpeers.
     */
    private long overdueOf(Request r) {
        if (!r.unmeasured() || r.source().source.isOrigin()) {
            return r.overdueNanos();
        }
        SourceStats own = loop.stats(r.source().source.id());
        long expected = own.bytesPerSecond() > 0 ? own.expectedNanos(layout.length(r.piece()), 0)
                : judgedExpectation(r);
        if (expected == 0) {
            return r.overdueNanos();
        }
        return Math.min(r.overdueNanos(), r.startNanos() + (long) (expected * config.slowFactor()));
    }

    /**
     * For a request to a peer nothing had been measured of when it was asked, and still nothing now:
     * the slowest measured other peer's expected time for the piece; 0 when that does not apply (the
     * request's own allowance stands).
     */
    private long judgedExpectation(Request r) {
        if (!r.unmeasured() || r.source().source.isOrigin()
                || loop.stats(r.source().source.id()).bytesPerSecond() > 0) {
            return 0;
        }
        int len = layout.length(r.piece());
        long slowest = 0;
        for (SourceState o : sources.values()) {
            SourceStats st = loop.stats(o.source.id());
            if (o != r.source() && !o.source.isOrigin() && st.bytesPerSecond() > 0) {
                slowest = Math.max(slowest, st.expectedNanos(len, 0));
            }
        }
        return slowest;
    }

    private boolean removeRequest(Request req) {
        List<Request> rs = inflight.get(req.piece());
        if (rs == null || !rs.remove(req)) {
            return false;
        }
        if (rs.isEmpty()) {
            inflight.remove(req.piece());
        }
        originArrival.remove(req);
        req.source().inflight--;
        return true;
    }

    private void cancelRequestsOf(SourceState s) {
        for (List<Request> rs : new ArrayList<>(inflight.values())) {
            for (Request r : new ArrayList<>(rs)) {
                if (r.source() == s) {
                    removeRequest(r);
                    r.cancel();
                }
            }
        }
    }

    private void ban(SourceState s, String reason) {
        if (s.source.isOrigin()) {
            throw new IllegalStateException("the registry is never banned"); // see the class comment
        }
        log.warn("event=source_banned blob={} source={} reason=\"{}\"", blob.shortHex(12), s.source.id(), reason);
        loop.blacklist().ban(s.source.id(), config.banDuration().toNanos());
        cancelRequestsOf(s);
        availabilityDirty = true;
        listener.sourceBanned(s.source.id(), s.source.isOrigin(), reason);
    }

    private void refreshAvailability() {
        Set<String> banned = new HashSet<>();
        for (SourceState s : sources.values()) {
            if (!s.source.isOrigin() && loop.blacklist().isBanned(s.source.id())) {
                banned.add(s.source.id());
            }
        }
        if (!availabilityDirty && banned.equals(bannedWhenCounted)) {
            return;
        }
        bannedWhenCounted = banned;
        int[] a = new int[layout.count()];
        for (SourceState s : sources.values()) {
            if (s.source.isOrigin() || banned.contains(s.source.id())) {
                continue;
            }
            for (int i = s.has.nextSetBit(0); i >= 0; i = s.has.nextSetBit(i + 1)) {
                a[i]++;
            }
        }
        availability = a;
        availabilityDirty = false;
    }

    // ---------------------------------------------------------------- completion

    private void maybeComplete() {
        if (finished || have.cardinality() < layout.count()) {
            return;
        }
        stop();
        Duration elapsed = Duration.ofNanos(loop.nanoTime() - startNanos);
        DownloadResult result = new DownloadResult(blob, bytesBySource, originBytes, badPieces, elapsed);
        // Hashing the whole blob may take a while: keep it off the loop.
        CompletableFuture.runAsync(() -> {
            try {
                sink.commit();
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, ForkJoinPool.commonPool()).whenComplete((v, err) -> {
            if (err == null) {
                // bytes per source: the testbed adds up what crossed between its clusters from these lines
                log.info("event=blob_downloaded blob={} bytes={} origin_bytes={} sources={} bad_pieces={} ms={}",
                        blob, layout.blobSize(), originBytes, result.bytesBySource(), badPieces,
                        elapsed.toMillis());
                completion.complete(result);
            } else {
                Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                sink.abort();
                completion.completeExceptionally(cause instanceof DigestMismatchException
                        ? new BadPieceHashesException("every piece matched its hash but blob " + blob
                                + " did not: the piece hashes were wrong", cause)
                        : cause);
            }
        });
    }

    /** Ends the download: no more ticks, outstanding requests cancelled. */
    private void stop() {
        finished = true;
        if (ticker != null) {
            ticker.cancel(false);
        }
        for (List<Request> rs : inflight.values()) {
            for (Request r : rs) {
                r.cancel(); // revoked before the commit reads the blob
            }
        }
        inflight.clear();
    }

    private void fail(Throwable t) {
        if (finished) {
            return;
        }
        stop();
        sink.abort();
        completion.completeExceptionally(t);
    }
}
