package io.layerswarm.node;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.protobuf.ByteString;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.host.StreamStalledException;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import io.layerswarm.swarm.Bitfield;
import io.layerswarm.swarm.BlobDownload;
import io.layerswarm.swarm.DownloadResult;
import io.layerswarm.swarm.PieceHashBook;
import io.layerswarm.swarm.PieceHashes;
import io.layerswarm.swarm.PieceLayout;
import io.layerswarm.swarm.PiecePicker;
import io.layerswarm.swarm.PieceProgress;
import io.layerswarm.swarm.PieceSource;
import io.layerswarm.swarm.SwarmLoop;
import io.layerswarm.swarm.pb.LayerExchangeProtos.Announce;
import io.layerswarm.swarm.pb.LayerExchangeProtos.PieceHash;
import io.layerswarm.transfer.Duplex;
import io.layerswarm.transfer.Frames;
import io.layerswarm.transfer.LayerExchangeClient;
import io.layerswarm.transfer.LayerExchangeServer;
import io.layerswarm.transfer.LocalBlobs;
import io.layerswarm.transfer.PeerPieceSource;
import io.layerswarm.transfer.StreamOpener;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A swarm node: gets blobs from the nearby peers that hold them, in verified pieces from several at
 * once, and from the registry only what no peer can give in time; serves what it holds, including
 * pieces of blobs it is still downloading; and tells connected peers at once what it starts,
 * verifies, completes or drops.
 *
 * <p>All node state is owned by one {@link SwarmLoop}; network callbacks only post events to it.
 * When several nodes pull the same blob at once, each starts with a claim: an announcement that it
 * is fetching, sent to every connected peer, which each peer takes into account before it answers
 * with its own state (whether it fetches too, and which pieces it has asked the registry for). The
 * registry is used once every connected peer has answered (one round trip; at once with no peer,
 * and after {@link SwarmConfig#claimWait()} at most), so two fetchers that start together know of
 * each other before either asks the registry. The registry pieces are then split among the known
 * fetchers by rendezvous hashing (each piece goes to the fetcher whose hash of peer id, blob and piece
 * is highest, so fetchers that disagree about one member disagree about few pieces), each node
 * takes its own pieces lowest first and tells its peers at once which ones it asked for; the
 * registry sends each byte about once and peers exchange the rest. A piece whose assignee makes no
 * progress for {@link SwarmConfig#originStall()} may come from the registry anyway.
 */
public final class LayerSwarm implements AutoCloseable {
    /** The in-cluster announcement protocol, one message per stream (peers without {@link #ANNOUNCE_LINK_PROTOCOL}). */
    public static final String ANNOUNCE_PROTOCOL = "/layerswarm/announce/1.0.0";
    /** The in-cluster announcement protocol, one long-lived stream per peer (see {@link AnnounceLink}). */
    public static final String ANNOUNCE_LINK_PROTOCOL = AnnounceLink.PROTOCOL;
    private static final Announce SYNCED = Announce.newBuilder().setSynced(true).build();
    private static final Logger log = LoggerFactory.getLogger(LayerSwarm.class);
    static final int MAX_ANNOUNCE = 1024 * 1024;
    private static final int MIN_SMALL_PIECE = 256 * 1024;
    private static final long PING_PERIOD_MILLIS = 10_000;
    /**
     * How long a reusable layer-exchange stream may wait for its next request before it is closed (checked
     * every {@link #PING_PERIOD_MILLIS}): long enough to carry a pull's pieces, layer after layer, short
     * enough that no peer keeps a serving thread here for a stream nobody uses.
     */
    private static final Duration KEEP_IDLE_STREAM = Duration.ofSeconds(10);
    /** Tries per announce or claim while the peer stays connected. */
    private static final int SEND_ATTEMPTS = 2;
    /**
     * Blobs one connected peer may have announced (held, fetching or dropped) and be remembered for;
     * announces of further blobs are ignored, so a peer flooding announcements cannot grow the node's
     * state without bound. A node announces every blob it holds, so this is also the largest store a
     * peer can fully advertise.
     */
    static final int MAX_BLOBS_PER_PEER = 16_384;
    /** Piece hashes in one snapshot announce (about 40 bytes each): well within {@link #MAX_ANNOUNCE}. */
    static final int MAX_SNAPSHOT_HASHES = 16_384;
    /** Announced piece hashes kept for blobs not being fetched (about 100 bytes each). */
    static final int MAX_STORED_HASHES = 65_536;

    private final Host host;
    private final BlobStore store;
    private final SwarmConfig config;
    private final SwarmLoop loop;
    private final ExecutorService io;
    private final boolean ownIo;
    private final LayerExchangeServer server;
    /** Blobs this node neither announces nor serves to peers (layers of private repositories). */
    private volatile java.util.function.Predicate<Digest> withheld = d -> false;
    private final Cache<String, PieceHashes> hashCache = Caffeine.newBuilder().maximumSize(1024).build();
    private final ConnectionListener connectionListener;
    private final List<SwarmListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile int activeCount;
    /** Peers that stalled an upload: refused uploads until the deadline ({@link System#nanoTime()}). */
    private final Map<PeerId, Long> uploadBans = new java.util.concurrent.ConcurrentHashMap<>();
    /** Layer-exchange streams being served, per peer, so a ban can end the ones already waiting. */
    private final Map<PeerId, Set<P2pStream>> serving = new java.util.concurrent.ConcurrentHashMap<>();
    /** Announce links to peers, opened on the first message, closed when the peer disconnects. */
    private final Map<PeerId, AnnounceLink> links = new java.util.concurrent.ConcurrentHashMap<>();
    /** Layer-exchange clients of connected peers, which keep their reusable streams; dropped on disconnect. */
    private final Map<PeerId, LayerExchangeClient> clients = new java.util.concurrent.ConcurrentHashMap<>();
    /** Peers' announce links to this node being read, reset when this node closes. */
    private final Set<P2pStream> inboundLinks = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Set by {@link #close()}: what links hand back then is dropped, not sent per message. */
    private volatile boolean closing;
    /** Announce streams opened per peer for one message each (1.0.0), for {@link #announceStreamsOpened}. */
    private final Map<PeerId, java.util.concurrent.atomic.AtomicInteger> perMessageStreams =
            new java.util.concurrent.ConcurrentHashMap<>();

    // ---- loop-owned state
    private final Map<Digest, Map<PeerId, Holding>> directory = new HashMap<>();
    private final Map<Digest, Map<Integer, byte[]>> announcedHashes = new HashMap<>();
    private final Map<Digest, Integer> announcedPieceSize = new HashMap<>();
    private final Map<Digest, Active> active = new HashMap<>();
    private final Map<PeerId, Map<Digest, Long>> lastSeq = new HashMap<>();
    /** Connected peers that said they have announced all they hold and fetch (a {@code synced} frame). */
    private final Set<PeerId> synced = new HashSet<>();
    private long seq;
    private int storedHashes;
    private long announcesIgnored;

    /** One blob being fetched. */
    private final class Active {
        final Digest digest;
        final PieceLayout layout;
        final BlobStore.WritableBlob blob;
        final BitSet verified = new BitSet();
        final Map<PeerId, Bitfield> sources = new HashMap<>();
        final CompletableFuture<DownloadResult> result = new CompletableFuture<>();
        final PieceProgress progress;
        final List<PieceHash> pendingHashes = new ArrayList<>();
        /** The hash of every verified piece, in order: once the blob matched its digest, all of them are right. */
        final byte[] pieceHashes;
        /** Pieces this node asked the registry for and has not verified yet. */
        final BitSet originPending = new BitSet();
        /** The other fetchers of this blob and which registry pieces are this node's. */
        final RegistrySplit split;
        /** Connected peers that have not answered this download's claim yet. */
        final Set<PeerId> claimsOutstanding = new HashSet<>();
        /** Whether the claim round is over, so the registry may be asked. */
        boolean claimed;
        final long claimStart = System.nanoTime();
        /**
         * The peers connected when the fetch started, if every one was synced and none held or fetched
         * the blob: before the claim round ends, the registry may be asked for the pieces that are this
         * node's among all of them (see {@link RegistrySplit#assignedToMeAmong}); null otherwise.
         */
        Set<PeerId> earlyAmong;
        PieceSource origin;
        BlobDownload download;
        boolean hashesRequested;
        /** Holders asked for the piece hashes, so a silent one is not asked again. */
        final Set<PeerId> hashesAskedOf = new HashSet<>();
        /** When the piece hashes were asked of a holder, while that request is unanswered; 0 otherwise. */
        long hashesAskedAt;
        boolean flushScheduled;
        boolean flushSoon;

        Active(Digest digest, PieceLayout layout, BlobStore.WritableBlob blob) {
            this.digest = digest;
            this.layout = layout;
            this.blob = blob;
            this.split = new RegistrySplit(host.peerId(), digest, config.originStall().toNanos(),
                    p -> loop.isBanned(p.toBase58()));
            this.progress = new PieceProgress(layout);
            this.pieceHashes = new byte[32 * layout.count()];
        }

        Bitfield verifiedField() {
            return Bitfield.of(layout.count(), verified);
        }
    }

    private LayerSwarm(Host host, BlobStore store, SwarmConfig config, ExecutorService sharedIo) {
        this.host = Objects.requireNonNull(host, "host");
        this.store = Objects.requireNonNull(store, "store");
        this.config = Objects.requireNonNull(config, "config");
        this.loop = new SwarmLoop();
        this.ownIo = sharedIo == null;
        this.io = ownIo ? Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "swarm-io");
            t.setDaemon(true);
            return t;
        }) : sharedIo;
        this.server = new LayerExchangeServer(new Served(), config.maxUploads(), config.uploadSlotWait());
        this.connectionListener = new ConnectionListener() {
            @Override
            public void connected(Connection c) {
                loop.post(() -> onConnected(c.remotePeer()));
                ping(c);
            }

            @Override
            public void disconnected(Connection c) {
                loop.post(() -> onDisconnected(c.remotePeer()));
            }
        };
    }

    /**
     * Starts a node on a running host: registers the layer exchange and announce protocols and starts
     * telling peers what this node holds.
     */
    public static LayerSwarm start(Host host, BlobStore store, SwarmConfig config) {
        return start(host, store, config, null);
    }

    /**
     * Like {@link #start(Host, BlobStore, SwarmConfig)}, running blocking piece transfers on a shared
     * {@code io} executor (not shut down by {@link #close()}); {@code null} creates an own pool.
     */
    public static LayerSwarm start(Host host, BlobStore store, SwarmConfig config, ExecutorService io) {
        LayerSwarm s = new LayerSwarm(host, store, config, io);
        host.setBlockingHandler(LayerExchangeServer.PROTOCOL, stream -> s.serveLayer(stream, false));
        host.setBlockingHandler(LayerExchangeServer.SESSION_PROTOCOL, stream -> s.serveLayer(stream, true));
        host.setBlockingHandler(ANNOUNCE_PROTOCOL, s::onAnnounceStream);
        host.setBlockingHandler(ANNOUNCE_LINK_PROTOCOL, s::onAnnounceLink);
        host.addConnectionListener(s.connectionListener);
        for (Connection c : host.connections()) {
            s.loop.post(() -> s.onConnected(c.remotePeer()));
        }
        // RTTs drift; re-measure every peer now and then for peer selection
        s.loop.every(PING_PERIOD_MILLIS, () -> {
            host.connections().forEach(s::ping);
            s.clients.values().forEach(c -> c.closeIdle(KEEP_IDLE_STREAM));
        });
        host.connections().forEach(s::ping);
        return s;
    }

    private void ping(Connection c) {
        String id = c.remotePeer().toBase58();
        c.ping().thenAccept(rtt -> loop.recordRtt(id, rtt))
                .exceptionally(e -> {
                    log.debug("event=ping_failed peer={} error={}", id, e.toString());
                    return null;
                });
    }

    /**
     * Blobs to keep from peers: they are not announced, not provided, not claimed, and a peer asking
     * for them is told they are not here (the node still fetches them, from peers and the registry).
     * Set before content arrives (the node sets it at start).
     */
    public void withholdFromPeers(java.util.function.Predicate<Digest> blobs) {
        withheld = Objects.requireNonNull(blobs, "blobs");
    }

    private boolean withheld(String digest) {
        try {
            return withheld.test(Digest.parse(digest));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** What this node has measured of each peer (ping RTT, piece throughput), by peer id. */
    public CompletableFuture<Map<String, SwarmLoop.SourceSnapshot>> peerStats() {
        return loop.snapshot();
    }

    /** Records a round trip to a source measured outside the swarm (e.g. a probe of an upstream registry). */
    public void recordRtt(String sourceId, Duration rtt) {
        loop.recordRtt(sourceId, rtt);
    }

    /** Records a probe read from a source measured outside the swarm (e.g. a range read of an upstream's blob). */
    public void recordProbe(String sourceId, long bytes, Duration elapsed) {
        loop.recordProbe(sourceId, bytes, elapsed);
    }

    /**
     * Measures the throughput of links no transfer has measured yet: for at most {@code maxPeers}
     * connected peers that never sent this node a byte but announced a whole blob, reads the first
     * {@code maxBytes} of the largest such blob over the layer exchange (so the read takes one of the
     * peer's upload slots like any request, and a busy peer just refuses it) and records the time as a
     * sample of the same average pieces feed. One peer at a time, so probes do not share the uplink and
     * each sees the link alone. The bytes are discarded unverified: only their timing is used.
     *
     * @return how many peers were measured
     */
    public CompletableFuture<Integer> probePeers(int maxBytes, int maxPeers) {
        if (maxBytes < 1 || maxBytes > PieceLayout.MAX_PIECE_SIZE) {
            throw new IllegalArgumentException("probe size must be in 1.." + PieceLayout.MAX_PIECE_SIZE + ", got " + maxBytes);
        }
        return loop.snapshot().thenCompose(stats -> loop.call(() -> probeTargets(stats, maxPeers)))
                .thenApplyAsync(targets -> {
                    int measured = 0;
                    for (Map.Entry<PeerId, Map.Entry<Digest, Long>> t : targets.entrySet()) {
                        if (probePeer(t.getKey(), t.getValue().getKey(), t.getValue().getValue(), maxBytes)) {
                            measured++;
                        }
                    }
                    return measured;
                }, io);
    }

    /** Connected peers without a measured throughput, each with the largest whole blob it announced; loop thread. */
    private Map<PeerId, Map.Entry<Digest, Long>> probeTargets(Map<String, SwarmLoop.SourceSnapshot> stats, int maxPeers) {
        Set<PeerId> unmeasured = new HashSet<>();
        for (Connection c : host.connections()) {
            SwarmLoop.SourceSnapshot s = stats.get(c.remotePeer().toBase58());
            if ((s == null || s.bytesPerSecond() == 0) && !loop.isBanned(c.remotePeer().toBase58())) {
                unmeasured.add(c.remotePeer());
            }
        }
        Map<PeerId, Map.Entry<Digest, Long>> best = new HashMap<>();
        directory.forEach((digest, holders) -> holders.forEach((peer, h) -> {
            if (h.complete() && h.size() > 0 && unmeasured.contains(peer)) {
                Map.Entry<Digest, Long> old = best.get(peer);
                if (old == null || h.size() > old.getValue()) {
                    best.put(peer, Map.entry(digest, h.size()));
                }
            }
        }));
        Map<PeerId, Map.Entry<Digest, Long>> out = new java.util.LinkedHashMap<>();
        best.entrySet().stream().sorted(Map.Entry.comparingByKey(java.util.Comparator.comparing(PeerId::toBase58)))
                .limit(maxPeers).forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /** One bounded read from a peer, timed; false (logged) if it failed or outlived the peer timeout. */
    private boolean probePeer(PeerId peer, Digest digest, long size, int maxBytes) {
        int length = (int) Math.min(size, maxBytes);
        java.util.concurrent.Future<Duration> f = io.submit(() -> {
            long start = System.nanoTime();
            client(peer).piece(digest, size, 0, length);
            return Duration.ofNanos(System.nanoTime() - start);
        });
        try {
            Duration took = f.get(config.peerTimeout().toMillis() * 3, java.util.concurrent.TimeUnit.MILLISECONDS);
            loop.recordProbe(peer.toBase58(), length, took);
            log.debug("event=peer_probe peer={} blob={} bytes={} ms={}", peer, digest, length, took.toMillis());
            return true;
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return false;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            f.cancel(true);
            log.debug("event=peer_probe_failed peer={} error=\"{}\"", peer, String.valueOf(e.getCause() == null ? e : e.getCause()));
            return false;
        }
    }

    /** Adds an observer of piece and ban events (see {@link SwarmListener}). */
    public void addListener(SwarmListener l) {
        listeners.add(Objects.requireNonNull(l, "listener"));
    }

    /** Blobs being fetched right now. */
    public int activeDownloads() {
        return activeCount;
    }

    /** This node's peer id. */
    public PeerId peerId() {
        return host.peerId();
    }

    /** Piece bytes this node has uploaded. */
    public long bytesServed() {
        return server.bytesServed();
    }

    /**
     * Gets a blob into the store, from peers and, for what they cannot give, from {@code origin}.
     *
     * @param digest the blob
     * @param size its size (from the manifest)
     * @param origin the registry as a piece source, or {@code null} to use peers only
     * @return what came from where; completes once the blob is committed, verified, to the store
     */
    public CompletableFuture<DownloadResult> fetch(Digest digest, long size, PieceSource origin) {
        Objects.requireNonNull(digest, "digest");
        if (size < 0) {
            throw new IllegalArgumentException("negative size");
        }
        return loop.call(() -> startFetch(digest, size, origin)).thenCompose(f -> f);
    }

    /**
     * Bytes {@code [offset, offset + length)} of a blob this node holds or is fetching (call
     * {@link #fetch} first), handed out in order as soon as their pieces are verified, so a client
     * can be served while the blob arrives. The range's last byte is held back until the whole blob
     * has matched its digest; if it does not, reading fails, so no reader gets the complete range of
     * a wrong blob. {@code available()} never blocks. A read of the whole blob also gets the registry's
     * bytes of the next piece as they arrive, before the piece is complete; it checks the digest of
     * exactly the bytes it handed out before the last one, and fails if a piece whose bytes it handed
     * out is fetched again (see {@link VerifiedStream}).
     *
     * @param deadlineNanos ({@link System#nanoTime()} scale) reading fails if the blob is not complete by then
     * @throws IOException if the blob is neither held nor being fetched
     */
    public InputStream openVerified(Digest digest, long offset, long length, long deadlineNanos) throws IOException {
        if (store.size(digest).isEmpty()) {
            Active a;
            try {
                a = loop.call(() -> active.get(digest)).get(config.peerTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            } catch (ExecutionException | TimeoutException e) {
                throw new IOException("swarm loop did not answer: " + e, e);
            }
            if (a != null) {
                if (offset < 0 || length < 0 || offset + length > a.layout.blobSize()) {
                    throw new IOException("range " + offset + "+" + length + " outside " + digest);
                }
                return new VerifiedStream(a.progress, (off, len) -> readFetching(a, off, len), offset, length,
                        deadlineNanos, digest);
            }
        }
        if (store.size(digest).isEmpty()) {
            throw new IOException("blob " + digest + " is neither held nor being fetched");
        }
        return store.open(digest, offset, length);
    }

    /**
     * Completes once {@code digest} is committed to the store: at once if it is held, with the running
     * download otherwise; fails if it is neither held nor being fetched, or the download fails.
     */
    public CompletableFuture<Void> committed(Digest digest) {
        return loop.call(() -> {
            if (store.size(digest).isPresent()) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            Active a = active.get(digest);
            if (a == null) {
                return CompletableFuture.<Void>failedFuture(
                        new IOException("blob " + digest + " is neither held nor being fetched"));
            }
            return a.result.thenApply(r -> (Void) null);
        }).thenCompose(f -> f);
    }

    /** Verified bytes of a download: from the partial blob, or from the store once it is committed. */
    private ByteBuffer readFetching(Active a, long offset, int length) throws IOException {
        try {
            return a.blob.read(offset, length);
        } catch (IllegalStateException | IOException e) {
            if (store.size(a.digest).isEmpty()) {
                // the partial blob is closed before the committed file is renamed into place: await the commit
                try {
                    a.result.get(config.peerTimeout().toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                } catch (ExecutionException | TimeoutException | java.util.concurrent.CancellationException ignored) {
                    // reported below: the blob is not in the store
                }
            }
            if (store.size(a.digest).isEmpty()) {
                throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
            }
            try (InputStream in = store.open(a.digest, offset, length)) {
                return ByteBuffer.wrap(in.readNBytes(length));
            }
        }
    }

    /** Tells connected peers that a blob committed outside the swarm (e.g. pulled directly) is held here. */
    public void announceHeld(Digest digest) {
        loop.post(() -> store.size(digest).ifPresent(size -> broadcast(Announce.newBuilder()
                .setDigest(digest.toString()).setSize(size).setComplete(true).build())));
    }

    /**
     * A reader (a peer's piece, the mirror) found a committed blob's bytes wrong: re-hashes it and, if it
     * rotted, deletes it from the store (so it is announced dropped and fetched anew), off the caller's
     * thread since the re-hash and the deletion's listeners may take a while.
     */
    public void dropCorrupt(Digest digest) {
        try {
            io.execute(() -> {
                try {
                    store.deleteIfCorrupt(digest);
                } catch (IOException | RuntimeException e) {
                    log.warn("event=corrupt_blob_not_dropped blob={} error=\"{}\"", digest, e.toString());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            log.warn("event=corrupt_blob_not_dropped blob={} error=\"shutting down\"", digest);
        }
    }

    /** Tells connected peers that this node no longer holds a blob (evicted). */
    public void announceDropped(Digest digest) {
        loop.post(() -> broadcast(Announce.newBuilder().setDigest(digest.toString()).setDropped(true).build()));
    }

    /** How many connected peers hold the whole blob, as far as announcements tell. */
    public CompletableFuture<Integer> holders(Digest digest) {
        return loop.call(() -> (int) directory.getOrDefault(digest, Map.of()).values().stream()
                .filter(Holding::complete).count());
    }

    /** The piece layout this node uses for a blob of {@code size} bytes. */
    public PieceLayout layoutFor(long size) {
        int piece = config.pieceSize();
        while (piece > MIN_SMALL_PIECE && size / piece < 8) {
            piece >>= 1;
        }
        return new PieceLayout(size, Math.max(piece, PieceLayout.MIN_PIECE_SIZE));
    }

    @Override
    public void close() {
        closing = true;
        host.removeHandler(LayerExchangeServer.PROTOCOL);
        host.removeHandler(LayerExchangeServer.SESSION_PROTOCOL);
        host.removeHandler(ANNOUNCE_PROTOCOL);
        host.removeHandler(ANNOUNCE_LINK_PROTOCOL);
        loop.close();
        links.values().forEach(AnnounceLink::close);
        links.clear();
        clients.values().forEach(LayerExchangeClient::close);
        clients.clear();
        inboundLinks.forEach(P2pStream::reset);
        if (ownIo) {
            io.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ fetching (loop thread)

    private CompletableFuture<DownloadResult> startFetch(Digest digest, long size, PieceSource origin) {
        if (store.size(digest).isPresent()) {
            return CompletableFuture.completedFuture(new DownloadResult(digest, Map.of(), 0, 0, Duration.ZERO));
        }
        Active existing = active.get(digest);
        if (existing != null) {
            if (origin != null && existing.origin == null) {
                existing.origin = origin;
                existing.download.addSource(origin, Bitfield.full(existing.layout.count()));
            }
            return existing.result;
        }
        PieceLayout layout = layoutFor(size);
        BlobStore.WritableBlob blob;
        try {
            blob = store.create(digest, size);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        Active a = new Active(digest, layout, blob);
        a.earlyAmong = quietPeers(digest);
        active.put(digest, a);
        activeCount = active.size();
        a.download = BlobDownload.start(loop, digest, new PieceHashBook(layout), blob, PiecePicker.rarestFirst(),
                // a piece this node asked the registry for stays its own if the request failed: the others
                // were told and leave it to this node
                (piece, holders, sinceStart, stalled) -> mayAskRegistry(a, piece) && holders == 0 && !awaitingHashes(a)
                        && (a.originPending.get(piece) || a.split.mayFetch(piece, System.nanoTime())),
                config.download(), new Accounting(digest) {
                    @Override
                    public void pieceVerified(int piece, byte[] hash) {
                        onPieceVerified(a, piece, hash);
                    }

                    @Override
                    public void originRequested(int piece) {
                        a.originPending.set(piece);
                        log.debug("event=origin_requested blob={} piece={} fetchers={} assigned={}", a.digest.shortHex(12),
                                piece, a.split.otherFetchers() + 1, a.split.assignedToMe(piece));
                        // others must hear of it before they pick their next registry piece
                        flushSoon(a);
                    }

                    @Override
                    public void originArriving(int piece, io.layerswarm.swarm.PieceRegion region) {
                        a.progress.arriving(piece, region);
                    }
                }, null);
        if (layout.count() == 1 && digest.algorithm() == Digest.Algorithm.SHA256) {
            // the only piece is the whole blob, so its hash is the digest: any holder can be used at once
            a.download.learnHash("digest", 0, java.util.HexFormat.of().parseHex(digest.hex()));
        }
        for (Map.Entry<PeerId, Holding> e : directory.getOrDefault(digest, Map.of()).entrySet()) {
            useHolding(a, e.getKey(), e.getValue());
        }
        if (announcedPieceSize.getOrDefault(digest, -1) == layout.pieceSize()) {
            announcedHashes.getOrDefault(digest, Map.of()).forEach((i, h) -> a.download.learnHash("announced", i, h));
        }
        askConnectedPeers(a);
        if (origin != null) {
            a.origin = origin;
            a.download.addSource(origin, Bitfield.full(layout.count()));
        }
        claim(a);
        a.download.completion().whenComplete((r, err) -> loop.post(() -> onDownloadDone(a, r, err)));
        log.info("event=fetch_started blob={} bytes={} pieces={} known_holders={} early={}", digest, size,
                layout.count(), directory.getOrDefault(digest, Map.of()).size(), a.earlyAmong != null);
        return a.result;
    }

    /**
     * The connected peers, if each one is synced (has announced everything it holds and fetches) and
     * none holds or fetches {@code digest}; null otherwise (or with no peer: the claim round ends at once).
     */
    private Set<PeerId> quietPeers(Digest digest) {
        Set<PeerId> connected = new HashSet<>();
        host.connections().forEach(c -> connected.add(c.remotePeer()));
        if (connected.isEmpty() || !synced.containsAll(connected) || directory.containsKey(digest)) {
            return null;
        }
        return connected;
    }

    /**
     * Whether the registry may be asked for {@code piece} as far as the claim round goes: once it is
     * over, or before, if the fetch started quiet ({@link Active#earlyAmong}) and the piece is this
     * node's among all peers then connected. Rendezvous hashing keeps that safe: a node that wins the
     * piece among all of them wins it among whichever of them turn out to fetch, so every fetcher that
     * knows the same peers leaves it to this node.
     */
    private boolean mayAskRegistry(Active a, int piece) {
        return a.claimed || a.earlyAmong != null && a.split.assignedToMeAmong(a.earlyAmong, piece);
    }

    /** Passes a download's piece and ban events on to this swarm's {@link SwarmListener}s. */
    private class Accounting implements BlobDownload.Listener {
        private final Digest digest;

        Accounting(Digest digest) {
            this.digest = digest;
        }

        @Override
        public void pieceAccepted(int piece, String sourceId, boolean origin, int bytes) {
            listeners.forEach(l -> l.pieceAccepted(digest, sourceId, origin, bytes));
        }

        @Override
        public void pieceRejected(int piece, String sourceId) {
            listeners.forEach(l -> l.pieceRejected(digest, sourceId));
        }

        @Override
        public void sourceBanned(String sourceId, boolean origin, String reason) {
            listeners.forEach(l -> l.sourceBanned(digest, sourceId, origin, reason));
        }
    }

    /** Tells every connected peer that this node fetches {@code a}; the registry waits for their answers. */
    private void claim(Active a) {
        if (withheld.test(a.digest)) {
            a.claimed = true; // no peer may help with it or learn of it
            return;
        }
        Announce claim = announceOf(a).setFetching(true).setAckRequested(true).build();
        for (Connection c : host.connections()) {
            if (a.claimsOutstanding.add(c.remotePeer())) {
                sendClaim(c.remotePeer(), claim, a);
            }
        }
        if (a.claimsOutstanding.isEmpty()) {
            a.claimed = true;
            return;
        }
        loop.after(config.claimWait().toMillis(), () -> {
            if (!a.claimed) {
                log.info("event=claim_unanswered blob={} peers={} wait_ms={}", a.digest.shortHex(12),
                        a.claimsOutstanding.size(), config.claimWait().toMillis());
                endClaim(a);
            }
        });
    }

    private void claimAnswered(Active a, PeerId peer) {
        if (a.claimsOutstanding.remove(peer) && a.claimsOutstanding.isEmpty() && !a.claimed) {
            endClaim(a);
        }
    }

    private void endClaim(Active a) {
        log.debug("event=claim_done blob={} fetchers={} ms={}", a.digest.shortHex(12), a.split.otherFetchers() + 1,
                (System.nanoTime() - a.claimStart) / 1_000_000);
        a.claimed = true;
        a.claimsOutstanding.clear();
        a.download.reconsider();
    }

    /**
     * Whether a holder's piece hashes are on their way: until they arrive no piece from it verifies,
     * so the registry would look like the only source. Bounded by {@link SwarmConfig#claimWait()},
     * so a holder that never answers costs that long at most.
     */
    private boolean awaitingHashes(Active a) {
        return a.hashesAskedAt != 0 && System.nanoTime() - a.hashesAskedAt < config.claimWait().toNanos();
    }

    private void onPieceVerified(Active a, int piece, byte[] hash) {
        a.verified.set(piece);
        a.progress.verified(piece);
        a.originPending.clear(piece);
        a.pendingHashes.add(PieceHash.newBuilder().setIndex(piece).setSha256(ByteString.copyFrom(hash)).build());
        System.arraycopy(hash, 0, a.pieceHashes, piece * 32, 32);
        scheduleFlush(a);
    }

    private void scheduleFlush(Active a) {
        if (!a.flushScheduled) {
            // batch announcements of pieces verified close together
            a.flushScheduled = true;
            loop.after(20, () -> flushPieces(a));
        }
    }

    /** Announces after the events already queued (e.g. the rest of a scheduling pass), without the batching delay. */
    private void flushSoon(Active a) {
        if (!a.flushSoon) {
            a.flushSoon = true;
            loop.post(() -> flushPieces(a));
        }
    }

    private void flushPieces(Active a) {
        if (!a.flushSoon && !a.flushScheduled) {
            return; // already sent by the other of the two flushes
        }
        a.flushScheduled = false;
        a.flushSoon = false;
        if (active.get(a.digest) != a) {
            return;
        }
        broadcast(announceOf(a).addAllHashes(a.pendingHashes).build());
        a.pendingHashes.clear();
    }

    private Announce.Builder announceOf(Active a) {
        Bitfield pending = Bitfield.of(a.layout.count(), a.originPending);
        return Announce.newBuilder().setDigest(a.digest.toString()).setSize(a.layout.blobSize())
                .setPieceSize(a.layout.pieceSize()).setBitfield(ByteString.copyFrom(a.verifiedField().toBytes()))
                .setOriginPending(ByteString.copyFrom(pending.toBytes()));
    }

    /**
     * A download's whole state for a peer that may have missed our earlier announces (its claim's
     * answer, a newly connected peer): fetching, what is verified and asked of the registry, and the
     * hashes of the verified pieces. Without the hashes the peer would see pieces held here that it
     * cannot verify, i.e. nobody's, and might take them from the registry although they are done.
     * At most {@link #MAX_SNAPSHOT_HASHES}, the ones not announced yet first.
     */
    private Announce.Builder snapshotOf(Active a) {
        Announce.Builder b = announceOf(a).setFetching(true);
        Set<Integer> sent = new HashSet<>();
        for (PieceHash ph : a.pendingHashes) {
            if (sent.size() < MAX_SNAPSHOT_HASHES && sent.add(ph.getIndex())) {
                b.addHashes(ph);
            }
        }
        for (int i = a.verified.nextSetBit(0); i >= 0 && sent.size() < MAX_SNAPSHOT_HASHES;
             i = a.verified.nextSetBit(i + 1)) {
            if (sent.add(i)) {
                b.addHashes(PieceHash.newBuilder().setIndex(i)
                        .setSha256(ByteString.copyFrom(a.pieceHashes, i * 32, 32)));
            }
        }
        return b;
    }

    private void onDownloadDone(Active a, DownloadResult r, Throwable err) {
        active.remove(a.digest);
        activeCount = active.size();
        if (!directory.containsKey(a.digest)) {
            forgetHashes(a.digest);
        }
        if (err == null) {
            broadcast(Announce.newBuilder().setDigest(a.digest.toString()).setSize(a.layout.blobSize())
                    .setComplete(true).build());
            // the blob matched its digest, so these are its true piece hashes: pieces served from it get checked
            hashCache.put(a.digest + "/" + a.layout.pieceSize(), new PieceHashes(a.digest, a.layout, a.pieceHashes));
            a.result.complete(r);
            a.progress.complete();
            return;
        }
        Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                ? err.getCause() : err;
        // even if a refetch saves the blob, bytes streamed from this download may be wrong
        a.progress.fail(cause);
        if (cause instanceof BlobDownload.BadPieceHashesException && a.origin != null) {
            // Some peer announced false piece hashes. The digest caught it; fetch the whole blob from the
            // registry, trusting no announced hash.
            log.warn("event=piece_hashes_lied blob={} action=refetch_from_origin", a.digest);
            refetchFromOrigin(a);
            return;
        }
        a.result.completeExceptionally(cause);
    }

    private void refetchFromOrigin(Active failed) {
        BlobStore.WritableBlob blob;
        try {
            blob = store.create(failed.digest, failed.layout.blobSize());
        } catch (IOException e) {
            failed.result.completeExceptionally(e);
            return;
        }
        BlobDownload d = BlobDownload.start(loop, failed.digest, new PieceHashBook(failed.layout), blob,
                PiecePicker.inOrder(), (p, h, s, st) -> true, config.download(), new Accounting(failed.digest), null);
        d.addSource(failed.origin, Bitfield.full(failed.layout.count()));
        d.completion().whenComplete((r, err) -> {
            if (err == null) {
                loop.post(() -> broadcast(Announce.newBuilder().setDigest(failed.digest.toString())
                        .setSize(failed.layout.blobSize()).setComplete(true).build()));
                failed.result.complete(r);
            } else {
                failed.result.completeExceptionally(err);
            }
        });
    }

    private void useHolding(Active a, PeerId peer, Holding h) {
        if (h.complete()) {
            Bitfield full = Bitfield.full(a.layout.count());
            if (!full.equals(a.sources.get(peer))) {
                a.sources.put(peer, full);
                a.download.addSource(peerSource(peer, a), full);
            }
            requestHashes(a, peer);
            return;
        }
        if (h.pieceSize() != a.layout.pieceSize() || h.size() != a.layout.blobSize()) {
            return; // a different cut; only its complete copy is useful to us
        }
        long now = System.nanoTime();
        a.split.fetcherSeen(peer, now);
        Bitfield old = a.sources.get(peer);
        if (old == null) {
            a.sources.put(peer, h.pieces());
            a.download.addSource(peerSource(peer, a), h.pieces());
        }
        for (int i = 0; i < h.pieces().size(); i++) {
            if (h.pieces().has(i) && (old == null || !old.has(i))) {
                if (old != null) {
                    a.download.sourceHas(peer.toBase58(), i);
                }
                // its hash may still be on its way: until then the piece must not look like nobody's
                a.split.verifiedElsewhere(peer, i, now);
            }
        }
        a.sources.put(peer, h.pieces());
    }

    private void requestHashes(Active a, PeerId peer) {
        if (a.hashesRequested) {
            return;
        }
        askHashes(a, peer);
    }

    /**
     * Asks one complete holder for the piece hashes. A holder that has not answered within
     * {@link SwarmConfig#claimWait()} (frozen, or a peer that announces and never sends) does not hold
     * the download up: the next complete holder not asked yet is asked as well.
     */
    private void askHashes(Active a, PeerId peer) {
        a.hashesRequested = true;
        a.hashesAskedOf.add(peer);
        long asked = System.nanoTime();
        a.hashesAskedAt = asked;
        loop.after(config.claimWait().toMillis(), () -> {
            a.download.reconsider();
            if (a.hashesAskedAt == asked && active.get(a.digest) == a) {
                nextHashHolder(a).ifPresent(next -> askHashes(a, next));
            }
        });
        askWithDeadline(() -> {
            try {
                PieceHashes h = client(peer).hashes(a.digest, a.layout);
                byte[] all = h.toBytes();
                for (int i = 0; i < a.layout.count(); i++) {
                    a.download.learnHash(peer.toBase58(), i, java.util.Arrays.copyOfRange(all, i * 32, i * 32 + 32));
                }
                loop.post(() -> a.hashesAskedAt = 0);
            } catch (IOException e) {
                log.debug("event=hashes_failed blob={} peer={} error={}", a.digest.shortHex(12), peer, e.toString());
                loop.post(() -> {
                    if (a.hashesAskedAt == asked) {
                        a.hashesAskedAt = 0;
                        a.hashesRequested = false;
                        // e.g. that holder was killed: without hashes no piece verifies, so ask another holder
                        if (active.get(a.digest) == a) {
                            nextHashHolder(a).ifPresent(next -> askHashes(a, next));
                        }
                    }
                    a.download.reconsider();
                });
            }
        });
    }

    /** A complete holder not asked for this download's piece hashes yet. */
    private Optional<PeerId> nextHashHolder(Active a) {
        return a.sources.entrySet().stream()
                .filter(s -> !a.hashesAskedOf.contains(s.getKey()) && s.getValue().isComplete())
                .map(Map.Entry::getKey).findFirst();
    }

    /** Peers we have no announcement from may still hold the blob (e.g. announced before we connected). */
    private void askConnectedPeers(Active a) {
        Set<PeerId> known = new HashSet<>(directory.getOrDefault(a.digest, Map.of()).keySet());
        for (Connection c : host.connections()) {
            PeerId peer = c.remotePeer();
            if (known.contains(peer)) {
                continue;
            }
            askWithDeadline(() -> {
                try {
                    Bitfield have = client(peer).have(a.digest, a.layout);
                    if (have.cardinality() > 0) {
                        Holding h = new Holding(a.layout.blobSize(), a.layout.pieceSize(),
                                have.isComplete() ? null : have, have.isComplete());
                        loop.post(() -> {
                            if (active.get(a.digest) == a) {
                                useHolding(a, peer, h);
                            }
                        });
                    }
                } catch (IOException e) {
                    log.debug("event=have_failed blob={} peer={} error={}", a.digest.shortHex(12), peer, e.toString());
                }
            });
        }
    }

    /**
     * Runs a blocking question to a peer on the io pool, interrupted (which closes its stream) after
     * three times {@link SwarmConfig#peerTimeout()}: a peer that never answers, or drips its answer,
     * must not hold a thread for good. The interrupted question fails like any unanswered one.
     */
    private void askWithDeadline(Runnable question) {
        java.util.concurrent.Future<?> f = io.submit(question);
        loop.after(config.peerTimeout().toMillis() * 3, () -> f.cancel(true));
    }

    private PieceSource peerSource(PeerId peer, Active a) {
        return new PeerPieceSource(peer.toBase58(), client(peer), a.digest, a.layout.blobSize(), io);
    }

    /**
     * The peer's layer-exchange client, kept while it is connected so its reusable streams carry one
     * request after another. A client for a peer that is not connected is not kept (no disconnect
     * would remove it).
     */
    private LayerExchangeClient client(PeerId peer) {
        if (host.connection(peer).isEmpty() || closing) {
            return new LayerExchangeClient(layerOpener(peer));
        }
        return clients.computeIfAbsent(peer, p -> new LayerExchangeClient(layerOpener(p)));
    }

    /** Layer-exchange streams opened to {@code peer} since it connected (0 if it is not connected). */
    public int layerStreamsOpened(PeerId peer) {
        LayerExchangeClient c = clients.get(peer);
        return c == null ? 0 : c.streamsOpened();
    }

    /**
     * Opens {@link LayerExchangeServer#SESSION_PROTOCOL} streams, or {@link LayerExchangeServer#PROTOCOL}
     * ones to a peer that answered {@code na} to the first: after one such answer only the old protocol
     * is offered, so a peer of an older version costs no extra round trip per stream.
     */
    private StreamOpener layerOpener(PeerId peer) {
        java.util.concurrent.atomic.AtomicBoolean oldPeer = new java.util.concurrent.atomic.AtomicBoolean();
        return () -> {
            List<String> offer = oldPeer.get() ? List.of(LayerExchangeServer.PROTOCOL)
                    : List.of(LayerExchangeServer.SESSION_PROTOCOL, LayerExchangeServer.PROTOCOL);
            P2pStream s = awaitStream(host.newStream(peer, offer));
            boolean session = LayerExchangeServer.SESSION_PROTOCOL.equals(s.protocol());
            if (!session && oldPeer.compareAndSet(false, true)) {
                log.debug("event=layer_exchange_fallback peer={} protocol={}", peer, s.protocol());
            }
            return duplex(s, session);
        };
    }

    private StreamOpener opener(PeerId peer, String protocol) {
        return () -> duplex(awaitStream(host.newStream(peer, List.of(protocol))), false);
    }

    private static Duplex duplex(P2pStream s, boolean reusable) {
        return new Duplex() {
            @Override
            public InputStream in() {
                return s.inputStream();
            }

            @Override
            public OutputStream out() {
                return s.outputStream();
            }

            @Override
            public void close() {
                s.close();
            }

            @Override
            public boolean reusable() {
                return reusable;
            }
        };
    }

    private P2pStream awaitStream(CompletableFuture<P2pStream> f) throws IOException {
        try {
            return f.get(config.peerTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted opening a stream", e);
        } catch (ExecutionException e) {
            throw new IOException("could not open stream: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new IOException("opening a stream timed out", e);
        }
    }

    // ------------------------------------------------------------------ announcements

    private void broadcast(Announce message) {
        for (Connection c : host.connections()) {
            send(c.remotePeer(), message);
        }
    }

    /** Loop thread only: numbers the announce. */
    private void send(PeerId peer, Announce unsequenced) {
        if ((unsequenced.getComplete() || unsequenced.getFetching()) && withheld(unsequenced.getDigest())) {
            return;
        }
        link(peer).send(unsequenced.toBuilder().setSeq(++seq).build());
    }

    /**
     * Loop thread: the peer's announce link, made (not opened yet) if there is none. A peer that is not
     * connected (it left after the message was decided) gets a closed link, which sends per message and
     * is not kept, so a link never outlives the {@link #onDisconnected} that would have closed it.
     */
    private AnnounceLink link(PeerId peer) {
        if (host.connection(peer).isEmpty()) {
            AnnounceLink gone = new AnnounceLink(peer.toBase58(), new LinkOwner(peer), io);
            gone.close();
            return gone;
        }
        return links.computeIfAbsent(peer, p -> new AnnounceLink(p.toBase58(), new LinkOwner(p), io));
    }

    /**
     * Announce and claim streams this node has opened to {@code peer} while connected: its link's (one,
     * plus a reopen) and one per message for a peer without {@link #ANNOUNCE_LINK_PROTOCOL}.
     */
    public CompletableFuture<Integer> announceStreamsOpened(PeerId peer) {
        return loop.call(() -> {
            AnnounceLink l = links.get(peer);
            return (l == null ? 0 : l.streamsOpened())
                    + perMessageStreams.getOrDefault(peer, new java.util.concurrent.atomic.AtomicInteger()).get();
        });
    }

    private void countPerMessageStream(PeerId peer) {
        perMessageStreams.computeIfAbsent(peer, p -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
    }

    /** What an {@link AnnounceLink} needs of this node, for one peer. */
    private final class LinkOwner implements AnnounceLink.Owner {
        private final PeerId peer;

        LinkOwner(PeerId peer) {
            this.peer = peer;
        }

        @Override
        public P2pStream open(List<String> protocols) throws IOException {
            return awaitStream(host.newStream(peer, protocols));
        }

        @Override
        public boolean connected() {
            return host.connection(peer).isPresent();
        }

        @Override
        public void answered(Announce claim, Announce reply) throws io.layerswarm.transfer.ProtocolException {
            Digest digest = Digest.parse(claim.getDigest());
            Runnable apply = null;
            try {
                if (reply.getComplete() || reply.getSize() > 0) {
                    apply = announceAction(peer, reply);
                }
            } finally {
                Runnable then = apply;
                loop.post(() -> {
                    if (then != null) {
                        then.run();
                    }
                    Active a = active.get(digest);
                    if (a != null) {
                        claimAnswered(a, peer);
                    }
                });
            }
        }

        @Override
        public void perMessage(Announce message) {
            if (message.getSynced() || closing) {
                return; // 1.0.0 has no such frame (its peers get no early start); or this node is closing
            }
            if (!message.getAckRequested()) {
                sendPerMessage(peer, message, 1);
                return;
            }
            loop.post(() -> {
                Active a = active.get(Digest.parse(message.getDigest()));
                if (a != null) {
                    sendClaimPerMessage(peer, message, a, 1);
                }
            });
        }

        @Override
        public void reopened() {
            loop.post(() -> {
                if (links.get(peer) != null && host.connection(peer).isPresent()) {
                    announceEverythingTo(peer);
                }
            });
        }
    }

    private void sendPerMessage(PeerId peer, Announce message, int attempt) {
        io.execute(() -> {
            countPerMessageStream(peer);
            try (Duplex d = opener(peer, ANNOUNCE_PROTOCOL).open()) {
                Frames.write(d.out(), message);
                d.out().flush();
            } catch (IOException | RuntimeException e) {
                log.debug("event=announce_failed peer={} attempt={} error={}", peer, attempt, e.toString());
                if (resendable(peer, e, attempt)) {
                    // same seq: a copy that did arrive makes the resent one stale, which is harmless
                    sendPerMessage(peer, message, attempt + 1);
                }
            }
        });
    }

    /**
     * Whether a failed announce or claim goes out once more: the stream can die under it while the peer
     * stays connected (a duplicate connection that both sides dialled closes with the stream on it).
     */
    private boolean resendable(PeerId peer, Exception e, int attempt) {
        return attempt < SEND_ATTEMPTS && !(e instanceof io.layerswarm.transfer.ProtocolException)
                && host.connection(peer).isPresent();
    }

    /** Like {@link #send}, and reads the peer's answer: its state for the blob, after it took ours into account. */
    private void sendClaim(PeerId peer, Announce unsequenced, Active a) {
        Announce claim = unsequenced.toBuilder().setSeq(++seq).build();
        AnnounceLink link = link(peer);
        link.claim(claim);
        loop.after(config.peerTimeout().toMillis(), () -> link.expire(claim));
    }

    private void sendClaimPerMessage(PeerId peer, Announce message, Active a, int attempt) {
        io.execute(() -> {
            Runnable apply = null;
            countPerMessageStream(peer);
            try (Duplex d = opener(peer, ANNOUNCE_PROTOCOL).open()) {
                // a peer that never answers must not hold this thread: the claim itself is bounded by claimWait
                loop.after(config.peerTimeout().toMillis(), () -> closeQuietly(d));
                Frames.write(d.out(), message);
                d.out().flush();
                log.debug("event=claim_sent peer={} blob={}", peer, a.digest.shortHex(12));
                Announce reply = Frames.read(d.in(), Announce.parser(), MAX_ANNOUNCE);
                log.debug("event=claim_reply peer={} blob={}", peer, a.digest.shortHex(12));
                if (!reply.getDigest().equals(message.getDigest())) {
                    throw new io.layerswarm.transfer.ProtocolException("claim answer for another blob from " + peer);
                }
                if (reply.getComplete() || reply.getSize() > 0) {
                    apply = announceAction(peer, reply);
                }
            } catch (IOException | RuntimeException e) {
                log.debug("event=claim_failed peer={} attempt={} error={}", peer, attempt, e.toString());
                if (resendable(peer, e, attempt)) {
                    // unanswered is not "not fetching": a fetcher we miss would take registry pieces twice
                    sendClaimPerMessage(peer, message, a, attempt + 1);
                    return;
                }
            }
            Runnable then = apply;
            loop.post(() -> {
                if (then != null) {
                    then.run();
                }
                claimAnswered(a, peer);
            });
        });
    }

    private static void closeQuietly(Duplex d) {
        try {
            d.close();
        } catch (IOException | RuntimeException e) {
            log.debug("event=stream_close_failed error={}", e.toString());
        }
    }

    private void onAnnounceStream(P2pStream stream) throws IOException {
        onAnnounceFrame(stream, Frames.read(stream.inputStream(), Announce.parser(), MAX_ANNOUNCE));
    }

    /**
     * Reads a peer's announce link to its end, taking in each frame as {@link #onAnnounceStream} takes
     * a stream's one; a bad frame throws, so the host resets the stream and the peer opens it again.
     */
    private void onAnnounceLink(P2pStream stream) throws IOException {
        inboundLinks.add(stream);
        try {
            while (true) {
                Announce a;
                try {
                    a = Frames.read(stream.inputStream(), Announce.parser(), MAX_ANNOUNCE);
                } catch (java.io.EOFException end) {
                    return;
                }
                onAnnounceFrame(stream, a);
            }
        } finally {
            inboundLinks.remove(stream);
        }
    }

    /** Takes in one announce from a peer and answers it on {@code stream} if it is a claim. */
    private void onAnnounceFrame(P2pStream stream, Announce a) throws IOException {
        PeerId from = stream.remotePeer();
        if (a.getSynced()) {
            loop.post(() -> {
                if (host.connection(from).isPresent()) {
                    synced.add(from);
                }
            });
            return;
        }
        loop.post(announceAction(from, a));
        log.debug("event=announce_received peer={} ack={}", from, a.getAckRequested());
        if (a.getAckRequested()) {
            // answered on the loop after the claim was applied, so the answer reflects it
            Digest digest = Digest.parse(a.getDigest());
            Announce reply;
            try {
                reply = loop.call(() -> stateOf(digest)).get(config.peerTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted answering a claim", e);
            } catch (ExecutionException | TimeoutException e) {
                throw new IOException("could not answer a claim: " + e, e);
            }
            Frames.write(stream.outputStream(), reply);
            stream.outputStream().flush();
        }
    }

    /** This node's announce for a blob: held, being fetched, or neither (digest and seq only). Loop thread. */
    private Announce stateOf(Digest digest) {
        Announce.Builder b;
        OptionalLong size = store.size(digest);
        Active a = active.get(digest);
        if (withheld.test(digest)) {
            b = Announce.newBuilder().setDigest(digest.toString());
        } else if (size.isPresent()) {
            b = Announce.newBuilder().setDigest(digest.toString()).setSize(size.getAsLong()).setComplete(true);
        } else if (a != null) {
            b = snapshotOf(a);
        } else {
            b = Announce.newBuilder().setDigest(digest.toString());
        }
        return b.setSeq(++seq).build();
    }

    /**
     * Checks an announce from {@code from} and returns what applying it does, to run on the loop.
     *
     * @throws io.layerswarm.transfer.ProtocolException if it is malformed
     */
    private Runnable announceAction(PeerId from, Announce message) throws io.layerswarm.transfer.ProtocolException {
        ReceivedAnnounce a;
        try {
            a = ReceivedAnnounce.of(message);
        } catch (io.layerswarm.transfer.ProtocolException e) {
            throw new io.layerswarm.transfer.ProtocolException("announce from " + from + ": " + e.getMessage());
        }
        if (a.dropped()) {
            return () -> {
                if (tracks(from, a.digest()) && isFresh(from, a.digest(), a.seq())) {
                    onDropped(from, a.digest());
                }
            };
        }
        return () -> {
            if (!tracks(from, a.digest())) {
                return;
            }
            if (a.originPending() != null) {
                onOriginPending(from, a.digest(), a.holding(), a.originPending());
            }
            if (isFresh(from, a.digest(), a.seq())) {
                onAnnounce(from, a.digest(), a.holding(), a.hashes());
            } else {
                learnHashes(from, a.digest(), a.holding(), a.hashes());
            }
        };
    }

    /** Whether an announce of {@code digest} from {@code from} is taken in: within the peer's blob limit. */
    private boolean tracks(PeerId from, Digest digest) {
        Map<Digest, Long> m = lastSeq.get(from);
        if (m == null || m.size() < MAX_BLOBS_PER_PEER || m.containsKey(digest)) {
            return true;
        }
        if (announcesIgnored++ % 1024 == 0) {
            log.warn("event=announce_ignored reason=peer_blob_limit peer={} limit={} ignored_total={}", from,
                    MAX_BLOBS_PER_PEER, announcesIgnored);
        }
        return false;
    }

    /**
     * What this node remembers of its peers' announcements (loop-owned state whose size peers drive),
     * and how many announces it ignored for the per-peer limit.
     *
     * @param peers peers with remembered announcements
     * @param announcedBlobs (peer, blob) pairs remembered, at most {@link #MAX_BLOBS_PER_PEER} per peer
     * @param directoryBlobs blobs some connected peer holds or fetches
     * @param storedHashes announced piece hashes kept for later fetches
     * @param announcesIgnored announces of blobs beyond a peer's limit, ignored
     */
    public record AnnounceState(int peers, int announcedBlobs, int directoryBlobs, int storedHashes,
                                long announcesIgnored) {
    }

    /** The current {@link AnnounceState}. */
    public CompletableFuture<AnnounceState> announceState() {
        return loop.call(() -> new AnnounceState(lastSeq.size(),
                lastSeq.values().stream().mapToInt(Map::size).sum(), directory.size(), storedHashes,
                announcesIgnored));
    }

    private boolean isFresh(PeerId from, Digest digest, long seqNo) {
        Map<Digest, Long> m = lastSeq.computeIfAbsent(from, k -> new HashMap<>());
        Long last = m.get(digest);
        if (last != null && seqNo <= last) {
            return false;
        }
        m.put(digest, seqNo);
        return true;
    }

    private void onAnnounce(PeerId from, Digest digest, Holding h, List<PieceHash> hashes) {
        directory.computeIfAbsent(digest, k -> new HashMap<>()).put(from, h);
        Active a = active.get(digest);
        if (a != null) {
            useHolding(a, from, h);
        }
        learnHashes(from, digest, h, hashes);
    }

    /**
     * Piece hashes are sent once, in the announce of the batch they were verified in; that announce
     * may arrive after a newer one (separate streams), so they are learned even from a stale announce.
     */
    private void learnHashes(PeerId from, Digest digest, Holding h, List<PieceHash> hashes) {
        if (!hashes.isEmpty()) {
            Integer size = announcedPieceSize.putIfAbsent(digest, h.pieceSize());
            if (size == null || size == h.pieceSize()) {
                Map<Integer, byte[]> known = announcedHashes.computeIfAbsent(digest, k -> new HashMap<>());
                for (PieceHash ph : hashes) {
                    // a fetch under way learns them below anyway; only the kept-for-later ones are capped
                    if (storedHashes < MAX_STORED_HASHES
                            && known.putIfAbsent(ph.getIndex(), ph.getSha256().toByteArray()) == null) {
                        storedHashes++;
                    }
                }
            }
        }
        Active a = active.get(digest);
        if (a != null && h.pieceSize() == a.layout.pieceSize()) {
            for (PieceHash ph : hashes) {
                a.download.learnHash(from.toBase58(), ph.getIndex(), ph.getSha256().toByteArray());
            }
        }
    }

    private void onOriginPending(PeerId from, Digest digest, Holding h, Bitfield pending) {
        Active a = active.get(digest);
        if (a == null || h.pieceSize() != a.layout.pieceSize() || h.size() != a.layout.blobSize()) {
            return;
        }
        long now = System.nanoTime();
        for (int i = 0; i < pending.size(); i++) {
            if (pending.has(i)) {
                a.split.requestedElsewhere(from, i, now);
            }
        }
    }

    private void onDropped(PeerId from, Digest digest) {
        forgetHolder(digest, from);
        Active a = active.get(digest);
        if (a != null && a.sources.remove(from) != null) {
            a.download.removeSource(from.toBase58());
        }
    }

    private void onConnected(PeerId peer) {
        AnnounceLink link = links.get(peer);
        if (link != null) {
            // a second connection to the peer: if it won, the link leaves the losing one, which closes when idle
            host.connection(peer).ifPresent(link::moveTo);
        }
        announceEverythingTo(peer);
    }

    /**
     * Sends {@code peer} what this node fetches and holds, then a {@code synced} frame: from then on the
     * peer knows everything this node has (later changes follow in order on the same link).
     */
    private void announceEverythingTo(PeerId peer) {
        for (Active a : active.values()) {
            send(peer, snapshotOf(a).build());
        }
        try {
            io.execute(() -> {
                try {
                    List<Digest> held = store.list();
                    loop.post(() -> {
                        for (Digest d : held) {
                            store.size(d).ifPresent(size -> send(peer, Announce.newBuilder().setDigest(d.toString())
                                    .setSize(size).setComplete(true).build()));
                        }
                        link(peer).send(SYNCED);
                    });
                } catch (IOException e) {
                    log.warn("event=list_failed error={}", e.toString());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            log.debug("event=announce_skipped reason=closing peer={}", peer);
        }
    }

    private void onDisconnected(PeerId peer) {
        if (host.connection(peer).isPresent()) {
            // a duplicate connection closed (both sides dialled at once); the peer is still here
            return;
        }
        AnnounceLink link = links.remove(peer);
        if (link != null) {
            link.close();
        }
        LayerExchangeClient client = clients.remove(peer);
        if (client != null) {
            client.close();
        }
        synced.remove(peer);
        perMessageStreams.remove(peer);
        Map<Digest, Long> announced = lastSeq.remove(peer);
        if (announced != null) {
            for (Digest d : announced.keySet()) {
                forgetHolder(d, peer);
            }
        }
        for (Active a : active.values()) {
            a.split.left(peer);
            if (a.sources.remove(peer) != null) {
                a.download.removeSource(peer.toBase58());
            }
        }
    }

    /** Removes a peer from a blob's holders; a blob no peer announces any more is forgotten. */
    private void forgetHolder(Digest digest, PeerId peer) {
        Map<PeerId, Holding> m = directory.get(digest);
        if (m == null) {
            return;
        }
        m.remove(peer);
        if (m.isEmpty()) {
            directory.remove(digest);
            if (!active.containsKey(digest)) {
                forgetHashes(digest);
            }
        }
    }

    private void forgetHashes(Digest digest) {
        Map<Integer, byte[]> h = announcedHashes.remove(digest);
        if (h != null) {
            storedHashes -= h.size();
        }
        announcedPieceSize.remove(digest);
    }

    // ------------------------------------------------------------------ serving

    /**
     * Serves one layer-exchange stream. A peer that lets an upload stall (reads nothing, or a byte now
     * and then, so the stream window stays shut for {@link StreamStalledException#STALL_LIMIT}) would
     * otherwise hold an upload slot for good and, with a few such requests, every slot: it is refused
     * uploads for the download ban duration, and its other streams waiting here are reset.
     */
    private void serveLayer(P2pStream stream, boolean session) throws IOException {
        PeerId peer = stream.remotePeer();
        if (refusesUploadsTo(peer)) {
            stream.reset();
            return;
        }
        serving.compute(peer, (p, set) -> {
            Set<P2pStream> s = set == null ? java.util.concurrent.ConcurrentHashMap.newKeySet() : set;
            s.add(stream);
            return s;
        });
        try {
            if (session) {
                server.serveSession(stream.inputStream(), stream.outputStream());
            } else {
                server.serve(stream.inputStream(), stream.outputStream());
            }
        } catch (StreamStalledException e) {
            uploadBans.put(peer, System.nanoTime() + config.download().banDuration().toNanos());
            log.warn("event=peer_refused_uploads peer={} reason=\"{}\" ban_s={}", peer, e.getMessage(),
                    config.download().banDuration().toSeconds());
            serving.getOrDefault(peer, Set.of()).forEach(P2pStream::reset);
            throw e;
        } finally {
            serving.computeIfPresent(peer, (p, set) -> {
                set.remove(stream);
                return set.isEmpty() ? null : set;
            });
        }
    }

    /** Whether this node refuses uploads to {@code peer} because it stalled one (see {@link #serveLayer}). */
    public boolean refusesUploadsTo(PeerId peer) {
        Long until = uploadBans.get(peer);
        if (until == null) {
            return false;
        }
        if (System.nanoTime() - until >= 0) {
            uploadBans.remove(peer, until);
            return false;
        }
        return true;
    }

    /** What this node serves: committed blobs, and verified pieces of blobs still downloading. */
    private final class Served implements LocalBlobs {
        /** Pieces being downloaded are served in slices of this many bytes, never held whole. */
        private static final int SERVE_SLICE = 64 * 1024;

        @Override
        public OptionalLong size(Digest digest) {
            if (withheld.test(digest)) {
                return OptionalLong.empty();
            }
            OptionalLong s = store.size(digest);
            if (s.isPresent()) {
                return s;
            }
            return onLoop(() -> {
                Active a = active.get(digest);
                return a == null ? OptionalLong.empty() : OptionalLong.of(a.layout.blobSize());
            });
        }

        @Override
        public Optional<Bitfield> pieces(Digest digest, PieceLayout layout) {
            if (withheld.test(digest)) {
                return Optional.empty();
            }
            if (store.size(digest).isPresent()) {
                return Optional.of(Bitfield.full(layout.count()));
            }
            return onLoop(() -> {
                Active a = active.get(digest);
                return a != null && a.layout.equals(layout) ? Optional.of(a.verifiedField()) : Optional.empty();
            });
        }

        @Override
        public Optional<PieceHashes> hashes(Digest digest, PieceLayout layout) throws IOException {
            if (withheld.test(digest) || store.size(digest).isEmpty()) {
                return Optional.empty();
            }
            try {
                return Optional.of(hashCache.get(digest + "/" + layout.pieceSize(), k -> {
                    try (InputStream in = store.open(digest, 0, layout.blobSize())) {
                        return PieceHashes.compute(digest, layout, in);
                    } catch (DigestMismatchException e) {
                        dropCorrupt(digest); // hashing read the whole blob anyway: noticing the rot is free
                        throw new UncheckedIOException(e);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }

        /**
         * A whole piece of a committed blob whose piece hashes this node knows (it downloaded the blob, or
         * computed them from the verified blob for a peer) is checked before it goes out: a piece that
         * rotted on disk is not sent, and the blob is dropped. Other ranges go unchecked here; the peer
         * checks every piece anyway.
         */
        private InputStream openCommitted(Digest digest, long offset, int length) throws IOException {
            PieceHashes known = null;
            String prefix = digest + "/";
            for (Map.Entry<String, PieceHashes> e : hashCache.asMap().entrySet()) {
                PieceLayout l = e.getValue().layout();
                if (e.getKey().startsWith(prefix) && offset % l.pieceSize() == 0 && offset < l.blobSize()
                        && l.length((int) (offset / l.pieceSize())) == length) {
                    known = e.getValue();
                    break;
                }
            }
            if (known == null) {
                return store.open(digest, offset, length);
            }
            int piece = (int) (offset / known.layout().pieceSize());
            boolean intact;
            // hashed in slices, then read again to send (from the page cache): no piece is held whole
            try (InputStream in = store.open(digest, offset, length)) {
                intact = known.verify(piece, in);
            }
            if (!intact) {
                dropCorrupt(digest);
                throw new DigestMismatchException(digest, null, "stored piece " + piece + " of " + digest
                        + " does not match its hash (rotted on disk); not served");
            }
            return store.open(digest, offset, length);
        }

        @Override
        public InputStream open(Digest digest, long offset, int length) throws IOException {
            if (withheld.test(digest)) {
                throw new IOException("blob " + digest + " is not shared with peers");
            }
            if (store.size(digest).isPresent()) {
                return openCommitted(digest, offset, length);
            }
            Active partial = onLoop(() -> {
                Active a = active.get(digest);
                if (a == null) {
                    return null;
                }
                int first = (int) (offset / a.layout.pieceSize());
                int last = (int) ((offset + length - 1) / a.layout.pieceSize());
                for (int i = first; i <= last; i++) {
                    if (!a.verified.get(i)) {
                        return null;
                    }
                }
                return a;
            });
            if (partial == null) {
                throw new IOException("range " + offset + "+" + length + " of " + digest + " not held");
            }
            // the blob may get committed meanwhile (then the rest is read from the store)
            return new SlicedRangeStream((off, len) -> readFetching(partial, off, len), offset, length, SERVE_SLICE);
        }

        private <T> T onLoop(java.util.function.Supplier<T> q) {
            try {
                return loop.call(q).get(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("swarm loop did not answer: " + e, e);
            }
        }
    }
}
