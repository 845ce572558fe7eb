package io.layerswarm.node;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.protobuf.ByteString;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.Bitfield;
import io.layerswarm.swarm.BlobDownload;
import io.layerswarm.swarm.DownloadResult;
import io.layerswarm.swarm.PieceHashBook;
import io.layerswarm.swarm.PieceHashes;
import io.layerswarm.swarm.PieceLayout;
import io.layerswarm.swarm.PiecePicker;
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
import java.io.ByteArrayInputStream;
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
import java.util.TreeSet;
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
 * When several nodes pull the same blob at once, each announces that it is fetching, and the
 * registry pieces are split among the fetchers (piece {@code i} goes to fetcher {@code i mod n} in
 * peer-id order), so the registry sends each byte about once and peers exchange the rest; a piece
 * whose assignee makes no progress for {@link SwarmConfig#originStall()} may come from the registry
 * anyway.
 */
public final class LayerSwarm implements AutoCloseable {
    /** The in-cluster announcement protocol. */
    public static final String ANNOUNCE_PROTOCOL = "/layerswarm/announce/1.0.0";
    private static final Logger log = LoggerFactory.getLogger(LayerSwarm.class);
    private static final int MAX_ANNOUNCE = 1024 * 1024;
    private static final int MIN_SMALL_PIECE = 256 * 1024;
    private static final long PING_PERIOD_MILLIS = 10_000;

    private final Host host;
    private final BlobStore store;
    private final SwarmConfig config;
    private final SwarmLoop loop;
    private final ExecutorService io;
    private final LayerExchangeServer server;
    private final Cache<String, PieceHashes> hashCache = Caffeine.newBuilder().maximumSize(1024).build();
    private final ConnectionListener connectionListener;

    // ---- loop-owned state
    private final Map<Digest, Map<PeerId, Holding>> directory = new HashMap<>();
    private final Map<Digest, Map<Integer, byte[]>> announcedHashes = new HashMap<>();
    private final Map<Digest, Integer> announcedPieceSize = new HashMap<>();
    private final Map<Digest, Active> active = new HashMap<>();
    private final Map<PeerId, Map<Digest, Long>> lastSeq = new HashMap<>();
    private long seq;

    /** One blob being fetched. */
    private final class Active {
        final Digest digest;
        final PieceLayout layout;
        final BlobStore.WritableBlob blob;
        final BitSet verified = new BitSet();
        final Map<PeerId, Bitfield> sources = new HashMap<>();
        final Set<PeerId> fetchers = new TreeSet<>();
        final CompletableFuture<DownloadResult> result = new CompletableFuture<>();
        final List<PieceHash> pendingHashes = new ArrayList<>();
        /** Pieces this node asked the registry for and has not verified yet. */
        final BitSet originPending = new BitSet();
        /** Pieces other nodes asked the registry for: piece to the time we stop waiting for them. */
        final Map<Integer, Long> pendingElsewhere = new HashMap<>();
        PieceSource origin;
        BlobDownload download;
        boolean hashesRequested;
        boolean flushScheduled;

        Active(Digest digest, PieceLayout layout, BlobStore.WritableBlob blob) {
            this.digest = digest;
            this.layout = layout;
            this.blob = blob;
        }

        Bitfield verifiedField() {
            return Bitfield.of(layout.count(), verified);
        }
    }

    private LayerSwarm(Host host, BlobStore store, SwarmConfig config) {
        this.host = Objects.requireNonNull(host, "host");
        this.store = Objects.requireNonNull(store, "store");
        this.config = Objects.requireNonNull(config, "config");
        this.loop = new SwarmLoop();
        this.io = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "swarm-io");
            t.setDaemon(true);
            return t;
        });
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
        LayerSwarm s = new LayerSwarm(host, store, config);
        host.setBlockingHandler(LayerExchangeServer.PROTOCOL,
                stream -> s.server.serve(stream.inputStream(), stream.outputStream()));
        host.setBlockingHandler(ANNOUNCE_PROTOCOL, s::onAnnounceStream);
        host.addConnectionListener(s.connectionListener);
        for (Connection c : host.connections()) {
            s.loop.post(() -> s.onConnected(c.remotePeer()));
        }
        // RTTs drift; re-measure every peer now and then for peer selection
        s.loop.every(PING_PERIOD_MILLIS, () -> host.connections().forEach(s::ping));
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

    /** What this node has measured of each peer (ping RTT, piece throughput), by peer id. */
    public CompletableFuture<Map<String, SwarmLoop.SourceSnapshot>> peerStats() {
        return loop.snapshot();
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

    /** Tells connected peers that a blob committed outside the swarm (e.g. pulled directly) is held here. */
    public void announceHeld(Digest digest) {
        loop.post(() -> store.size(digest).ifPresent(size -> broadcast(Announce.newBuilder()
                .setDigest(digest.toString()).setSize(size).setComplete(true).build())));
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
        host.removeHandler(LayerExchangeServer.PROTOCOL);
        host.removeHandler(ANNOUNCE_PROTOCOL);
        loop.close();
        io.shutdownNow();
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
        active.put(digest, a);
        long grace = config.originGrace().toNanos();
        long stall = config.originStall().toNanos();
        a.download = BlobDownload.start(loop, digest, new PieceHashBook(layout), blob, PiecePicker.rarestFirst(),
                (piece, holders, sinceStart, stalled) -> sinceStart >= grace && holders == 0
                        && !pendingElsewhere(a, piece) && (assignedToMe(a, piece) || stalled >= stall),
                config.download(), new BlobDownload.Listener() {
                    @Override
                    public void pieceVerified(int piece, byte[] hash) {
                        onPieceVerified(a, piece, hash);
                    }

                    @Override
                    public void originRequested(int piece) {
                        a.originPending.set(piece);
                        scheduleFlush(a);
                    }
                }, null);
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
        broadcast(announceOf(a).setFetching(true).build());
        a.download.completion().whenComplete((r, err) -> loop.post(() -> onDownloadDone(a, r, err)));
        log.info("event=fetch_started blob={} bytes={} pieces={} known_holders={}", digest, size, layout.count(),
                directory.getOrDefault(digest, Map.of()).size());
        return a.result;
    }

    private boolean assignedToMe(Active a, int piece) {
        List<PeerId> fetchers = new ArrayList<>(a.fetchers);
        fetchers.add(host.peerId());
        fetchers.sort(null);
        return fetchers.get(piece % fetchers.size()).equals(host.peerId());
    }

    /** Whether another node is fetching this piece from the registry and has not yet overrun its time. */
    private boolean pendingElsewhere(Active a, int piece) {
        Long until = a.pendingElsewhere.get(piece);
        if (until == null) {
            return false;
        }
        if (System.nanoTime() - until > 0) {
            a.pendingElsewhere.remove(piece);
            return false;
        }
        return true;
    }

    private void onPieceVerified(Active a, int piece, byte[] hash) {
        a.verified.set(piece);
        a.originPending.clear(piece);
        a.pendingHashes.add(PieceHash.newBuilder().setIndex(piece).setSha256(ByteString.copyFrom(hash)).build());
        scheduleFlush(a);
    }

    private void scheduleFlush(Active a) {
        if (!a.flushScheduled) {
            // batch announcements of pieces verified close together
            a.flushScheduled = true;
            loop.after(20, () -> flushPieces(a));
        }
    }

    private void flushPieces(Active a) {
        a.flushScheduled = false;
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

    private void onDownloadDone(Active a, DownloadResult r, Throwable err) {
        active.remove(a.digest);
        if (err == null) {
            broadcast(Announce.newBuilder().setDigest(a.digest.toString()).setSize(a.layout.blobSize())
                    .setComplete(true).build());
            a.result.complete(r);
            return;
        }
        Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                ? err.getCause() : err;
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
                PiecePicker.inOrder(), (p, h, s, st) -> true, config.download(), null, null);
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
        a.fetchers.add(peer);
        Bitfield old = a.sources.get(peer);
        if (old == null) {
            a.sources.put(peer, h.pieces());
            a.download.addSource(peerSource(peer, a), h.pieces());
            return;
        }
        for (int i = 0; i < h.pieces().size(); i++) {
            if (h.pieces().has(i) && !old.has(i)) {
                a.download.sourceHas(peer.toBase58(), i);
            }
        }
        a.sources.put(peer, h.pieces());
    }

    private void requestHashes(Active a, PeerId peer) {
        if (a.hashesRequested) {
            return;
        }
        a.hashesRequested = true;
        io.execute(() -> {
            try {
                PieceHashes h = client(peer).hashes(a.digest, a.layout);
                byte[] all = h.toBytes();
                for (int i = 0; i < a.layout.count(); i++) {
                    a.download.learnHash(peer.toBase58(), i, java.util.Arrays.copyOfRange(all, i * 32, i * 32 + 32));
                }
            } catch (IOException e) {
                log.debug("event=hashes_failed blob={} peer={} error={}", a.digest.shortHex(12), peer, e.toString());
                loop.post(() -> {
                    a.hashesRequested = false;
                    // e.g. that holder was killed: without hashes no piece verifies, so ask another holder
                    if (active.get(a.digest) == a) {
                        a.sources.entrySet().stream()
                                .filter(s -> !s.getKey().equals(peer) && s.getValue().isComplete())
                                .findFirst().ifPresent(s -> requestHashes(a, s.getKey()));
                    }
                });
            }
        });
    }

    /** Peers we have no announcement from may still hold the blob (e.g. announced before we connected). */
    private void askConnectedPeers(Active a) {
        Set<PeerId> known = new HashSet<>(directory.getOrDefault(a.digest, Map.of()).keySet());
        for (Connection c : host.connections()) {
            PeerId peer = c.remotePeer();
            if (known.contains(peer)) {
                continue;
            }
            io.execute(() -> {
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

    private PieceSource peerSource(PeerId peer, Active a) {
        return new PeerPieceSource(peer.toBase58(), client(peer), a.digest, a.layout.blobSize(), io);
    }

    private LayerExchangeClient client(PeerId peer) {
        return new LayerExchangeClient(opener(peer, LayerExchangeServer.PROTOCOL));
    }

    private StreamOpener opener(PeerId peer, String protocol) {
        return () -> {
            P2pStream s = awaitStream(host.newStream(peer, List.of(protocol)));
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
            };
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
        Announce message = unsequenced.toBuilder().setSeq(++seq).build();
        io.execute(() -> {
            try (Duplex d = opener(peer, ANNOUNCE_PROTOCOL).open()) {
                Frames.write(d.out(), message);
                d.out().flush();
            } catch (IOException | RuntimeException e) {
                log.debug("event=announce_failed peer={} error={}", peer, e.toString());
            }
        });
    }

    private void onAnnounceStream(P2pStream stream) throws IOException {
        Announce a = Frames.read(stream.inputStream(), Announce.parser(), MAX_ANNOUNCE);
        PeerId from = stream.remotePeer();
        Digest digest;
        try {
            digest = Digest.parse(a.getDigest());
        } catch (IllegalArgumentException e) {
            throw new io.layerswarm.transfer.ProtocolException("announce from " + from + ": " + e.getMessage());
        }
        if (a.getDropped()) {
            long seqNo = a.getSeq();
            loop.post(() -> {
                if (isFresh(from, digest, seqNo)) {
                    onDropped(from, digest);
                }
            });
            return;
        }
        Holding h;
        if (a.getComplete()) {
            h = new Holding(a.getSize(), a.getPieceSize(), null, true);
        } else {
            PieceLayout layout;
            Bitfield pieces;
            try {
                layout = new PieceLayout(a.getSize(), a.getPieceSize());
                pieces = Bitfield.fromBytes(layout.count(), a.getBitfield().toByteArray());
            } catch (IllegalArgumentException e) {
                throw new io.layerswarm.transfer.ProtocolException("announce from " + from + ": " + e.getMessage());
            }
            for (PieceHash ph : a.getHashesList()) {
                if (ph.getIndex() >= layout.count() || ph.getSha256().size() != 32) {
                    throw new io.layerswarm.transfer.ProtocolException("announce from " + from + ": bad piece hash");
                }
            }
            h = new Holding(a.getSize(), a.getPieceSize(), pieces, false);
            if (!a.getOriginPending().isEmpty()) {
                try {
                    Bitfield pending = Bitfield.fromBytes(layout.count(), a.getOriginPending().toByteArray());
                    loop.post(() -> onOriginPending(digest, h, pending));
                } catch (IllegalArgumentException e) {
                    throw new io.layerswarm.transfer.ProtocolException("announce from " + from + ": " + e.getMessage());
                }
            }
        }
        long seqNo = a.getSeq();
        loop.post(() -> {
            if (isFresh(from, digest, seqNo)) {
                onAnnounce(from, digest, h, a.getHashesList());
            }
        });
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
        if (!hashes.isEmpty()) {
            Integer size = announcedPieceSize.putIfAbsent(digest, h.pieceSize());
            if (size == null || size == h.pieceSize()) {
                Map<Integer, byte[]> known = announcedHashes.computeIfAbsent(digest, k -> new HashMap<>());
                for (PieceHash ph : hashes) {
                    known.putIfAbsent(ph.getIndex(), ph.getSha256().toByteArray());
                }
            }
        }
        Active a = active.get(digest);
        if (a == null) {
            return;
        }
        useHolding(a, from, h);
        if (h.pieceSize() == a.layout.pieceSize()) {
            for (PieceHash ph : hashes) {
                a.download.learnHash(from.toBase58(), ph.getIndex(), ph.getSha256().toByteArray());
            }
        }
    }

    private void onOriginPending(Digest digest, Holding h, Bitfield pending) {
        Active a = active.get(digest);
        if (a == null || h.pieceSize() != a.layout.pieceSize()) {
            return;
        }
        long until = System.nanoTime() + config.originStall().toNanos();
        for (int i = 0; i < pending.size(); i++) {
            if (pending.has(i) && !a.originPending.get(i)) {
                a.pendingElsewhere.putIfAbsent(i, until);
            }
        }
    }

    private void onDropped(PeerId from, Digest digest) {
        Map<PeerId, Holding> m = directory.get(digest);
        if (m != null) {
            m.remove(from);
        }
        Active a = active.get(digest);
        if (a != null && a.sources.remove(from) != null) {
            a.download.removeSource(from.toBase58());
        }
    }

    private void onConnected(PeerId peer) {
        io.execute(() -> {
            try {
                List<Digest> held = store.list();
                loop.post(() -> {
                    for (Digest d : held) {
                        store.size(d).ifPresent(size -> send(peer, Announce.newBuilder().setDigest(d.toString())
                                .setSize(size).setComplete(true).build()));
                    }
                });
            } catch (IOException e) {
                log.warn("event=list_failed error={}", e.toString());
            }
        });
        for (Active a : active.values()) {
            send(peer, announceOf(a).setFetching(true).build());
        }
    }

    private void onDisconnected(PeerId peer) {
        for (Map<PeerId, Holding> m : directory.values()) {
            m.remove(peer);
        }
        for (Active a : active.values()) {
            a.fetchers.remove(peer);
            if (a.sources.remove(peer) != null) {
                a.download.removeSource(peer.toBase58());
            }
        }
    }

    // ------------------------------------------------------------------ serving

    /** What this node serves: committed blobs, and verified pieces of blobs still downloading. */
    private final class Served implements LocalBlobs {
        @Override
        public OptionalLong size(Digest digest) {
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
            if (store.size(digest).isEmpty()) {
                return Optional.empty();
            }
            try {
                return Optional.of(hashCache.get(digest + "/" + layout.pieceSize(), k -> {
                    try (InputStream in = store.open(digest, 0, layout.blobSize())) {
                        return PieceHashes.compute(digest, layout, in);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }

        @Override
        public InputStream open(Digest digest, long offset, int length) throws IOException {
            if (store.size(digest).isPresent()) {
                return store.open(digest, offset, length);
            }
            BlobStore.WritableBlob partial = onLoop(() -> {
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
                return a.blob;
            });
            if (partial == null) {
                throw new IOException("range " + offset + "+" + length + " of " + digest + " not held");
            }
            ByteBuffer b = partial.read(offset, length);
            if (b.hasArray()) {
                return new ByteArrayInputStream(b.array(), b.arrayOffset() + b.position(), b.remaining());
            }
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return new ByteArrayInputStream(out);
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
