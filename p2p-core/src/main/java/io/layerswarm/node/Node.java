package io.layerswarm.node;

import io.layerswarm.cache.LayerCache;
import io.layerswarm.cache.layer.LayerApplier;
import io.layerswarm.cache.layout.OciLayoutWriter;
import io.layerswarm.cache.policy.ArcPolicy;
import io.layerswarm.cache.policy.CachePolicy;
import io.layerswarm.cache.policy.Policies;
import io.layerswarm.cache.policy.ReplicaView;
import io.layerswarm.cache.store.BlobInfo;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.cache.store.StoreListener;
import io.layerswarm.libp2p.crypto.KeyFiles;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.kad.KadConfig;
import io.layerswarm.libp2p.kad.KadDht;
import io.layerswarm.libp2p.kad.KadHostBinding;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.ping.Ping;
import io.layerswarm.libp2p.pnet.SwarmKey;
import io.layerswarm.mirror.BlobContent;
import io.layerswarm.mirror.DistributionServer;
import io.layerswarm.mirror.ManifestContent;
import io.layerswarm.mirror.MirrorListener;
import io.layerswarm.mirror.PrivateBlobs;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.mirror.UpstreamAccess;
import io.layerswarm.mirror.UpstreamRouter;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageIndex;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.ManifestResponse;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.swarm.DownloadResult;
import io.layerswarm.swarm.PieceLayout;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole LayerSwarm node as one library object: a libp2p host (identify, ping), a Kademlia DHT and
 * peer discovery, the swarm over a content store, an optional layer cache, a pull-through registry
 * mirror per upstream, and the manifest exchange with peers. {@code layerswarm node} is this class
 * plus flag parsing.
 *
 * <pre>{@code
 * try (Node node = Node.builder()
 *         .storeDir(Path.of("/var/lib/edge/layerswarm"))
 *         .upstream(URI.create("https://registry.example.com"))
 *         .bootstrap(Multiaddr.parse("/ip4/10.0.0.2/tcp/4001/p2p/12D3KooW..."))
 *         .build().start()) {
 *     PulledImage image = node.pull("team/app", "1.0");
 *     node.unpack(image, Path.of("/run/app/rootfs"));
 * }
 * }</pre>
 *
 * <p>Every part has the daemon's default and can be replaced through the {@link Builder}; threads
 * (a Netty event loop group, an executor for blocking work, a scheduler) are created by the node
 * unless passed in, and then they are shared by all parts and left running on {@link #close()}.
 * Other modules plug in through {@link NodeService} and watch through {@link NodeListener}.
 */
public final class Node implements AutoCloseable {
    /** Where {@link Builder#storeDir} defaults to. */
    public static final Path DEFAULT_STORE_DIR = Path.of(System.getProperty("user.home"), ".cache", "layerswarm", "node");
    /** The identity key file inside the store directory, unless {@link Builder#keyFile} says otherwise. */
    public static final String KEY_FILE = "node.key";
    /** The layer cache's journal inside the store directory. */
    public static final String CACHE_JOURNAL = "cache.journal.json";
    /** Blobs fetched for private repositories (see {@link PrivateBlobs}) inside the store directory. */
    public static final String PRIVATE_BLOBS = "private-blobs";
    private static final Logger log = LoggerFactory.getLogger(Node.class);
    private static final List<String> MANIFEST_ACCEPT = List.of(MediaTypes.OCI_MANIFEST, MediaTypes.OCI_INDEX,
            MediaTypes.DOCKER_MANIFEST, MediaTypes.DOCKER_MANIFEST_LIST);
    private static final Duration KAD_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration MANIFEST_ASK_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration JOIN_WAIT = Duration.ofSeconds(30);

    private final Builder config;
    private final List<NodeListener> listeners = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> open = new ArrayList<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private EventLoopGroup group;
    private ExecutorService executor;
    private ScheduledExecutorService scheduler;
    private ContentStore store;
    private LayerCache cache;
    private Host host;
    private LayerSwarm swarm;
    private LinkReader links;
    private KadDiscovery discovery;
    private KadHostBinding kad;
    private Identify identify;
    private DistributionServer mirror;
    private final Map<String, NodeContentProvider> providers = new LinkedHashMap<>();

    private Node(Builder b) {
        this.config = b;
        listeners.addAll(b.listeners);
    }

    /** A builder with the daemon's defaults; at least one upstream is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts every part, in order: threads, store (taking its directory lock), identity, layer cache,
     * host, DHT, swarm, mirror providers, manifest exchange, discovery, mirror server, then the services.
     * On failure what started is closed again and the cause is thrown.
     *
     * @return this node
     * @throws IOException if the store directory is in use by another node, a port is taken, a key
     *     file is unreadable, and the like
     * @throws IllegalStateException if called twice
     */
    public Node start() throws IOException {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("node already started");
        }
        try {
            startParts();
            return this;
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        } catch (Exception e) {
            close();
            throw new IOException("node start failed: " + e.getMessage(), e);
        }
    }

    private void startParts() throws Exception {
        Builder b = config;
        group = b.group != null ? b.group : owned(new NioEventLoopGroup(b.ioThreads, daemonThreads("node-netty")),
                g -> g.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly());
        executor = b.executor != null ? b.executor : owned(Executors.newCachedThreadPool(daemonThreads("node-io")),
                ExecutorService::shutdownNow);
        scheduler = b.scheduler != null ? b.scheduler
                : owned(Executors.newSingleThreadScheduledExecutor(daemonThreads("node-scheduler")),
                        ExecutorService::shutdownNow);

        // the store's directory lock comes first: a second node on the same directory stops here,
        // before it touches the key or binds a port
        store = add(ContentStore.open(b.storeDir));
        PrivateKey identity = b.identity != null ? b.identity : loadKey(b.keyFile != null ? b.keyFile
                : b.storeDir.resolve(KEY_FILE));
        BlobStore blobs = new ProgressBlobStore(new SwarmBlobStore(store), this::emitProgress);
        if (b.cacheCapacity > 0) {
            ReplicaView replicas = key -> replicasElsewhere(key);
            cache = add(LayerCache.open(store, b.cachePolicy.apply(b.cacheCapacity, replicas),
                    b.storeDir.resolve(CACHE_JOURNAL)));
        }

        Host.Builder hb = Host.builder(identity).eventLoopGroup(group);
        b.listen.forEach(hb::listen);
        if (b.swarmKey != null) {
            hb.swarmKey(b.swarmKey);
        }
        b.hostOptions.forEach(o -> o.accept(hb));
        host = add(hb.build().start());
        host.addConnectionListener(new ConnectionListener() {
            @Override
            public void connected(Connection c) {
                emit(l -> l.peerConnected(new NodeEvent.PeerConnected(c.remotePeer())));
            }

            @Override
            public void disconnected(Connection c) {
                if (host.connection(c.remotePeer()).isEmpty()) { // not a closing duplicate
                    emit(l -> l.peerLost(new NodeEvent.PeerLost(c.remotePeer())));
                }
            }
        });
        identify = Identify.attach(host);
        Ping.attach(host);
        kad = add(KadHostBinding.attach(host, KadConfig.defaults().withClientMode(b.dhtClient),
                KAD_REQUEST_TIMEOUT));
        swarm = add(LayerSwarm.start(host, blobs, b.swarm, executor));
        PrivateBlobs privateBlobs = PrivateBlobs.open(b.storeDir.resolve(PRIVATE_BLOBS));
        // without a swarm key any peer may connect: layers of private repositories stay on this node
        java.util.function.Predicate<Digest> withheld = b.swarmKey == null ? privateBlobs::contains : d -> false;
        swarm.withholdFromPeers(withheld);
        links = new LinkReader(swarm, b.upstreams);

        Map<String, PullThroughProvider> pullThroughs = new LinkedHashMap<>();
        Map<String, UpstreamAccess> accessOf = new LinkedHashMap<>();
        for (RegistryClient up : b.upstreams) {
            accessOf.put(UpstreamRouter.namespaceOf(up.baseUri()), new UpstreamAccess(up, privateBlobs));
            pullThroughs.put(UpstreamRouter.namespaceOf(up.baseUri()),
                    new PullThroughProvider(up, blobs, swarm, executor, b.blobTimeout, this::emitFetched));
        }
        // a private repository's manifests, like its layers, go to peers only inside a swarm key
        // (access is per repository, so any tag does as the probe)
        ManifestExchange exchange = ManifestExchange.attach(host, pullThroughs, b.swarmKey != null ? (ns, repo) -> false
                : (ns, repo) -> accessOf.containsKey(ns) && accessOf.get(ns).needsCredentials(repo, "manifests/latest"),
                MANIFEST_ASK_TIMEOUT);
        add(() -> host.removeHandler(ManifestExchange.PROTOCOL));
        discovery = new KadDiscovery(host, kad, b.bootstrap, b.connectAll);
        store.addListener(new StoreListener() {
            @Override
            public void onCommitted(Digest digest, long size) {
                if (!withheld.test(digest)) {
                    discovery.provide(digest); // asynchronous: the DHT learns of every verified commit
                }
            }

            @Override
            public void onDeleted(Digest digest) {
                // evicted: peers and the DHT must stop counting on this copy
                swarm.announceDropped(digest);
                discovery.stopProviding(digest);
                emit(l -> l.blobEvicted(new NodeEvent.BlobEvicted(digest)));
            }
        });
        LayerCache counted = cache;
        pullThroughs.forEach((ns, p) -> providers.put(ns, new NodeContentProvider(ns, p, blobs, swarm, discovery,
                exchange, counted == null ? d -> { } : counted::access,
                counted == null ? d -> () -> { } : counted::pin,
                e -> emit(l -> l.blobServed(e)), accessOf.get(ns), privateBlobs, executor)));
        if (b.mirrorListen != null) {
            mirror = add(DistributionServer.start(b.mirrorListen, new UpstreamRouter(providers), group, executor,
                    b.mirrorListener));
        }

        discovery.start(scheduler, b.discoveryPeriod);
        scheduler.execute(() -> {
            try {
                for (BlobInfo info : store.list()) {
                    if (!withheld.test(info.digest())) {
                        discovery.provide(info.digest());
                    }
                }
            } catch (IOException e) {
                log.warn("event=list_failed error=\"{}\"", e.toString());
            }
        });
        NodeContext context = new Context();
        for (NodeService s : b.services) {
            s.start(context);
            add(s);
        }
        log.info("event=node_started peer={} listen={} mirror={} upstreams={}", host.peerId(), host.listenAddrs(),
                mirror == null ? "none" : mirror.url(), providers.keySet());
    }

    private static PrivateKey loadKey(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        return KeyFiles.loadOrGenerate(file);
    }

    /** Closes the services, then the parts in reverse order of starting, then threads the node created. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        synchronized (open) {
            for (int i = open.size() - 1; i >= 0; i--) {
                try {
                    open.get(i).close();
                } catch (Exception e) {
                    log.warn("event=close_failed part={} error=\"{}\"", open.get(i).getClass().getSimpleName(),
                            e.toString());
                }
            }
            open.clear();
        }
    }

    private <T extends AutoCloseable> T add(T part) {
        synchronized (open) {
            open.add(part);
        }
        return part;
    }

    private <T> T owned(T threads, Consumer<T> shutdown) {
        add(() -> shutdown.accept(threads));
        return threads;
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    // ------------------------------------------------------------------ accessors

    /** This node's peer id. */
    public PeerId peerId() {
        return running().peerId();
    }

    /** The addresses peers can dial, each ending in {@code /p2p/<peer id>}. */
    public List<Multiaddr> listenAddrs() {
        Multiaddr self = Multiaddr.parse("/p2p/" + running().peerId().toBase58());
        return host.listenAddrs().stream().map(a -> a.encapsulate(self)).toList();
    }

    /** The mirror's bound address, if the node runs a mirror. */
    public Optional<InetSocketAddress> mirrorAddress() {
        running();
        return Optional.ofNullable(mirror).map(DistributionServer::address);
    }

    /** The mirror's base URL ({@code http://HOST:PORT}), if the node runs a mirror. */
    public Optional<URI> mirrorUrl() {
        running();
        return Optional.ofNullable(mirror).map(m -> URI.create(m.url()));
    }

    /** The upstream namespaces (host[:port]) in configuration order; the first is the default. */
    public List<String> namespaces() {
        return List.copyOf(providers.keySet());
    }

    /** The libp2p host, e.g. to add protocols. */
    public Host host() {
        return running();
    }

    /** The content store. */
    public ContentStore store() {
        running();
        return store;
    }

    /** The layer cache, if a capacity was set. */
    public Optional<LayerCache> cache() {
        running();
        return Optional.ofNullable(cache);
    }

    /** The swarm. */
    public LayerSwarm swarm() {
        running();
        return swarm;
    }

    /**
     * What this node has measured of its links so far: per peer and per upstream, the smoothed throughput
     * of the pieces it received and the round trip (libp2p ping to peers, {@link #probeUpstreams} to
     * registries). Read-only and cheap: a snapshot of the swarm's statistics, kept across downloads.
     */
    public CompletableFuture<LinkMeasurements> links() {
        running();
        return links.read();
    }

    /**
     * Times one {@code GET /v2/} to each upstream (on the node's executor) and adds it to the round trips
     * {@link #links()} reports; completes when every probe ended. Failed probes are logged and add nothing.
     * The node does not probe by itself: whoever publishes the measurements decides how often.
     */
    public CompletableFuture<Void> probeUpstreams() {
        running();
        return links.probe(executor);
    }

    /** Peers measured by one {@link #probeThroughput} at most: bounds the bytes one round asks of the swarm. */
    public static final int MAX_PROBED_PEERS = 8;

    /**
     * Light bandwidth probes of the links no transfer has measured yet, added to the throughput
     * {@link #links()} reports exactly as transfers add theirs: each upstream without a rate gets one
     * timed range read of at most {@code maxBytes} of a blob it holds (found through its catalog), then
     * at most {@link #MAX_PROBED_PEERS} connected peers without a rate get one timed read of at most
     * {@code maxBytes} of a blob they announced, one link at a time. Links already measured cost
     * nothing. Like {@link #probeUpstreams}, the node does not probe by itself: the caller decides how
     * often (the status publisher: at most every few minutes, off by a flag).
     *
     * @param maxBytes bytes read per link, 1..{@link PieceLayout#MAX_PIECE_SIZE}
     * @return how many links were measured
     */
    public CompletableFuture<Integer> probeThroughput(int maxBytes) {
        running();
        if (maxBytes < 1 || maxBytes > PieceLayout.MAX_PIECE_SIZE) {
            throw new IllegalArgumentException("probe size must be in 1.." + PieceLayout.MAX_PIECE_SIZE + ", got " + maxBytes);
        }
        LayerSwarm s = swarm;
        return links.probeThroughput(executor, maxBytes)
                .thenCompose(upstreams -> s.probePeers(maxBytes, MAX_PROBED_PEERS).thenApply(peers -> upstreams + peers));
    }

    /** Dials a peer ({@code .../p2p/<peer id>}) and waits up to {@code timeout} for the connection. */
    public void connect(Multiaddr peer, Duration timeout) throws IOException {
        try {
            running().connect(peer).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted dialling " + peer, e);
        } catch (ExecutionException e) {
            throw new IOException("cannot connect to " + peer + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("connecting to " + peer + " took longer than " + timeout, e);
        }
    }

    /** Adds a listener (also possible before start, through the builder). */
    public void addListener(NodeListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Removes a listener. */
    public void removeListener(NodeListener listener) {
        listeners.remove(listener);
    }

    private Host running() {
        if (host == null || closed.get()) {
            throw new IllegalStateException(closed.get() ? "node closed" : "node not started");
        }
        return host;
    }

    // ------------------------------------------------------------------ pulling without HTTP

    /** Pulls {@code repository:reference} for linux/amd64 through the default (first) upstream. */
    public PulledImage pull(String repository, String reference) throws IOException {
        return pull(namespaces().get(0), repository, reference, Platform.linuxAmd64());
    }

    /**
     * Resolves an image through the node's own mirror logic (upstream, else peers' manifests), then
     * gets the config and every layer into the store, from peers first and the upstream for the rest,
     * each verified before it is committed. Nothing goes over HTTP on this node's side.
     *
     * @param namespace the upstream's host[:port] (see {@link #namespaces()})
     * @param reference a tag or a digest
     * @param platform picked from an image index
     * @throws IllegalArgumentException for an unknown namespace
     * @throws IOException if the image is not found or a blob cannot be fetched
     */
    public PulledImage pull(String namespace, String repository, String reference, Platform platform)
            throws IOException {
        running();
        NodeContentProvider provider = providers.get(namespace);
        if (provider == null) {
            throw new IllegalArgumentException("no upstream " + namespace + " (configured: " + providers.keySet() + ")");
        }
        long start = System.nanoTime();
        discovery.awaitJoined(JOIN_WAIT); // a pull right after start should already see the cluster
        ManifestResponse current = manifest(provider, namespace, repository, reference);
        for (int depth = 0; current.isIndex(); depth++) {
            if (depth >= 2) {
                throw new IOException("image " + repository + ":" + reference + ": indexes nested too deeply");
            }
            ImageIndex idx = current.index();
            Descriptor entry = idx.select(platform).orElseThrow(() -> new IOException("image " + repository + ":"
                    + reference + " has no manifest for platform " + platform + " (available: "
                    + idx.manifests().stream().map(d -> String.valueOf(d.platform())).toList() + ")"));
            current = manifest(provider, namespace, repository, entry.digest().toString());
            if (current.bytes().length != entry.size()) {
                throw new IOException("manifest " + entry.digest() + " is " + current.bytes().length
                        + " bytes but the index says " + entry.size());
            }
        }
        PulledImage image = new PulledImage(namespace, repository, reference, platform, current, Duration.ZERO);
        if (!store.contains(current.digest())) {
            provider.markIfPrivate(repository, "manifests/" + reference, current.digest());
            store.ingest(current.digest(), current.bytes().length, new ByteArrayInputStream(current.bytes()));
        }
        List<CompletableFuture<Void>> fetches = new ArrayList<>();
        for (Descriptor d : image.blobs()) {
            fetches.add(CompletableFuture.runAsync(() -> {
                try {
                    Optional<BlobContent> got = provider.blob(repository, d.digest());
                    if (got.isEmpty()) {
                        throw new IOException("blob " + d.digest() + " of " + repository + ":" + reference
                                + " not found upstream " + namespace);
                    }
                    try (BlobContent content = got.get()) {
                        if (content.growing()) {
                            // the mirror's content streams while the swarm fetches: the pull is done at the commit
                            swarm.committed(d.digest()).get(config.blobTimeout.toMillis(), TimeUnit.MILLISECONDS);
                            // and its fetched-blob event is out before pull returns, so listeners see whole pulls
                            provider.reported(d.digest()).get(config.blobTimeout.toMillis(), TimeUnit.MILLISECONDS);
                        }
                    }
                } catch (IOException e) {
                    throw new CompletionException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CompletionException(new IOException("interrupted fetching " + d.digest(), e));
                } catch (ExecutionException | TimeoutException e) {
                    throw new CompletionException(new IOException("could not fetch " + d.digest() + ": "
                            + (e.getCause() == null ? e : e.getCause()), e));
                }
            }, executor));
        }
        try {
            CompletableFuture.allOf(fetches.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            fetches.forEach(f -> f.cancel(true));
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
        if (cache != null) {
            cache.recordImage(namespace + "/" + repository + ":" + reference, image.imageManifest().layers());
        }
        return new PulledImage(namespace, repository, reference, platform, current,
                Duration.ofNanos(System.nanoTime() - start));
    }

    private static ManifestResponse manifest(NodeContentProvider provider, String namespace, String repository,
                                             String reference) throws IOException {
        ManifestContent mc = provider.manifest(repository, reference, MANIFEST_ACCEPT).orElseThrow(() ->
                new IOException("image " + repository + ":" + reference + " not found upstream " + namespace));
        return new ManifestResponse(mc.bytes(), mc.mediaType(), mc.digest());
    }

    /**
     * Writes (or adds to) an OCI image layout at {@code dir} holding the pulled image, tagged with its
     * reference when that is a tag and with its digest otherwise. Blobs are hard-linked from the store
     * where the file system allows.
     */
    public void writeLayout(PulledImage image, Path dir) throws IOException {
        writeLayout(image, dir, image.reference().contains(":") ? image.digest().toString() : image.reference());
    }

    /** Like {@link #writeLayout(PulledImage, Path)}, tagging the image {@code name} in {@code index.json}. */
    public void writeLayout(PulledImage image, Path dir, String name) throws IOException {
        running();
        try (Pins pins = pin(image)) {
            OciLayoutWriter w = OciLayoutWriter.create(dir);
            for (Descriptor d : image.blobs()) {
                w.addBlob(store, d.digest());
            }
            w.addBlob(store, image.digest());
            w.tag(new Descriptor(image.manifest().mediaType(), image.digest(), image.manifest().bytes().length,
                    List.of(), Map.of(), image.platform()), name);
            w.commit();
        }
    }

    /**
     * Unpacks the image's layers, in order, into {@code rootfs} (created if missing) with OCI whiteouts;
     * nothing is ever written outside {@code rootfs}.
     */
    public void unpack(PulledImage image, Path rootfs) throws IOException {
        running();
        Files.createDirectories(rootfs);
        LayerApplier applier = new LayerApplier();
        try (Pins pins = pin(image)) {
            for (Descriptor layer : image.imageManifest().layers()) {
                try (InputStream in = store.open(layer.digest())) {
                    applier.apply(in, layer.mediaType(), rootfs);
                }
            }
        }
    }

    /** Cache pins on an image's blobs while it is read, so eviction cannot take them away mid-way. */
    private Pins pin(PulledImage image) {
        List<AutoCloseable> held = new ArrayList<>();
        if (cache != null) {
            for (Descriptor d : image.blobs()) {
                held.add(cache.pin(d.digest()));
            }
        }
        return new Pins(held);
    }

    private record Pins(List<AutoCloseable> held) implements AutoCloseable {
        @Override
        public void close() {
            for (AutoCloseable p : held) {
                PinnedBlobContent.release(p);
            }
        }
    }

    // ------------------------------------------------------------------ events

    private void emitProgress(Digest digest, long size, long bytes) {
        if (!listeners.isEmpty()) {
            NodeEvent.BlobProgress e = new NodeEvent.BlobProgress(digest, size, bytes);
            emit(l -> l.blobProgress(e));
        }
    }

    private void emitFetched(DownloadResult r) {
        long total = r.bytesBySource().values().stream().mapToLong(Long::longValue).sum();
        NodeEvent.BlobFetched e = new NodeEvent.BlobFetched(r.blob(), total, r.bytesBySource(), r.peerBytes(),
                r.originBytes(), r.elapsed());
        emit(l -> l.blobFetched(e));
    }

    private void emit(Consumer<NodeListener> call) {
        for (NodeListener l : listeners) {
            try {
                call.accept(l);
            } catch (RuntimeException e) {
                log.warn("event=listener_failed listener={} error=\"{}\"", l.getClass().getName(), e.toString());
            }
        }
    }

    /** Peers holding a layer, from the swarm's announcements; 0 while the swarm is not up or slow to answer. */
    private int replicasElsewhere(String key) {
        LayerSwarm sw = swarm;
        if (sw == null) {
            return 0;
        }
        try {
            return sw.holders(Digest.parse(key)).get(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        } catch (IllegalArgumentException | ExecutionException | TimeoutException e) {
            return 0;
        }
    }

    private final class Context implements NodeContext {
        @Override
        public Node node() {
            return Node.this;
        }

        @Override
        public Host host() {
            return host;
        }

        @Override
        public ContentStore store() {
            return store;
        }

        @Override
        public Optional<LayerCache> cache() {
            return Optional.ofNullable(cache);
        }

        @Override
        public LayerSwarm swarm() {
            return swarm;
        }

        @Override
        public KadDht dht() {
            return kad.dht();
        }

        @Override
        public Identify identify() {
            return identify;
        }

        @Override
        public ScheduledExecutorService scheduler() {
            return scheduler;
        }

        @Override
        public ExecutorService executor() {
            return executor;
        }

        @Override
        public EventLoopGroup eventLoopGroup() {
            return group;
        }
    }

    // ------------------------------------------------------------------ builder

    /** Builds a cache policy for a capacity, given how many other nodes hold each layer. */
    @FunctionalInterface
    public interface CachePolicyFactory {
        /** A new, empty policy of {@code capacity} bytes. */
        CachePolicy apply(long capacity, ReplicaView replicasElsewhere);
    }

    /**
     * Node settings; every one has the daemon's default except the upstreams. Not thread-safe; a
     * builder builds one node.
     */
    public static final class Builder {
        private PrivateKey identity;
        private Path keyFile;
        private final List<Multiaddr> listen = new ArrayList<>(List.of(Multiaddr.parse("/ip4/0.0.0.0/tcp/4001")));
        private boolean listenSet;
        private final List<Multiaddr> bootstrap = new ArrayList<>();
        private Path storeDir = DEFAULT_STORE_DIR;
        private long cacheCapacity;
        // cluster-aware ARC: evict what other nodes also hold first, keep the cluster's last copy
        // (on the generated trace it raised the cluster byte hit ratio over plain ARC at every size)
        private CachePolicyFactory cachePolicy = (capacity, replicas) -> ArcPolicy.clusterAware(capacity, replicas,
                Policies.DEFAULT_CLUSTER_WINDOW);
        private final List<RegistryClient> upstreams = new ArrayList<>();
        private InetSocketAddress mirrorListen = new InetSocketAddress("127.0.0.1", 5000);
        private SwarmKey swarmKey;
        private boolean connectAll = true;
        private boolean dhtClient;
        private SwarmConfig swarm = SwarmConfig.defaults();
        private Duration blobTimeout = Duration.ofMinutes(10);
        private Duration discoveryPeriod = Duration.ofSeconds(5);
        private final List<Consumer<Host.Builder>> hostOptions = new ArrayList<>();
        private EventLoopGroup group;
        private int ioThreads;
        private ExecutorService executor;
        private ScheduledExecutorService scheduler;
        private final List<NodeListener> listeners = new ArrayList<>();
        private final List<NodeService> services = new ArrayList<>();
        private MirrorListener mirrorListener = new MirrorListener() { };

        private Builder() {
        }

        /** The identity key (default: read from, or created at, {@link #keyFile}). */
        public Builder identity(PrivateKey key) {
            identity = Objects.requireNonNull(key, "key");
            return this;
        }

        /** The identity key file, created (mode 0600) if missing; default {@code storeDir/node.key}. */
        public Builder keyFile(Path file) {
            keyFile = Objects.requireNonNull(file, "file");
            return this;
        }

        /**
         * A libp2p listen address, TCP or QUIC ({@code /ip4/0.0.0.0/udp/4001/quic-v1}); the first call replaces the
         * default {@code /ip4/0.0.0.0/tcp/4001}. Port 0 picks a free port (see {@link Node#listenAddrs()}).
         */
        public Builder listen(Multiaddr addr) {
            if (!listenSet) {
                listen.clear();
                listenSet = true;
            }
            listen.add(Objects.requireNonNull(addr, "addr"));
            return this;
        }

        /** No libp2p listener: the node only dials out (e.g. a short-lived pull). */
        public Builder noListen() {
            listen.clear();
            listenSet = true;
            return this;
        }

        /** A peer to join the DHT through; must end in {@code /p2p/<peer id>}. */
        public Builder bootstrap(Multiaddr peer) {
            if (peer.valueOf(MultiaddrProtocol.P2P).isEmpty()) {
                throw new IllegalArgumentException("bootstrap " + peer + ": needs a trailing /p2p/<peer id>");
            }
            bootstrap.add(peer);
            return this;
        }

        /**
         * The node's state directory: the content store, the default key file and the cache journal.
         * One node owns it at a time (a file lock); default {@code ~/.cache/layerswarm/node}.
         */
        public Builder storeDir(Path dir) {
            storeDir = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /** Cache capacity in bytes: least useful layers are evicted beyond it; 0 (default) is unbounded. */
        public Builder cacheCapacity(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("cache capacity must be >= 0, got " + bytes);
            }
            cacheCapacity = bytes;
            return this;
        }

        /** The eviction policy used with a capacity (default cluster-aware ARC). */
        public Builder cachePolicy(CachePolicyFactory factory) {
            cachePolicy = Objects.requireNonNull(factory, "factory");
            return this;
        }

        /**
         * An upstream registry, anonymous. The first upstream is the default; requests pick one by
         * {@code ?ns=host[:port]}.
         */
        public Builder upstream(URI url) {
            return upstream(RegistryClient.builder(url).build());
        }

        /** An upstream registry with credentials (Basic or token auth, as the registry asks). */
        public Builder upstream(URI url, String username, String password) {
            return upstream(RegistryClient.builder(url).credentials(username, password).build());
        }

        /** An upstream registry through a client configured elsewhere (TLS, timeouts, concurrency). */
        public Builder upstream(RegistryClient client) {
            String ns = UpstreamRouter.namespaceOf(client.baseUri());
            if (upstreams.stream().anyMatch(u -> UpstreamRouter.namespaceOf(u.baseUri()).equals(ns))) {
                throw new IllegalArgumentException("upstream " + client.baseUri() + ": a second upstream for " + ns
                        + " (requests pick an upstream by host[:port])");
            }
            upstreams.add(client);
            return this;
        }

        /** Where the HTTP registry mirror listens (default {@code 127.0.0.1:5000}; port 0 picks one). */
        public Builder mirrorListen(InetSocketAddress addr) {
            mirrorListen = Objects.requireNonNull(addr, "addr");
            return this;
        }

        /** No HTTP mirror: the embedder pulls through {@link Node#pull} only. */
        public Builder noMirror() {
            mirrorListen = null;
            return this;
        }

        /** Private network: only peers with the same key can connect. */
        public Builder swarmKey(SwarmKey key) {
            swarmKey = key;
            return this;
        }

        /**
         * Keep a connection to every peer in the DHT routing table (default true), so announcements reach
         * everyone; when false, holders are found through DHT provider records only.
         */
        public Builder connectAll(boolean b) {
            connectAll = b;
            return this;
        }

        /** DHT client mode: query the DHT without serving it (default false). */
        public Builder dhtClient(boolean b) {
            dhtClient = b;
            return this;
        }

        /** All swarm settings at once (default {@link SwarmConfig#defaults()}). */
        public Builder swarmConfig(SwarmConfig c) {
            swarm = Objects.requireNonNull(c, "config");
            return this;
        }

        /** Swarm piece size for large blobs (every node of a cluster should use the same). */
        public Builder pieceSize(int bytes) {
            swarm = swarm.withPieceSize(bytes);
            return this;
        }

        /** Piece uploads served at once. */
        public Builder maxUploads(int n) {
            swarm = swarm.withMaxUploads(n);
            return this;
        }

        /** See {@link SwarmConfig#claimWait()}. */
        public Builder claimWait(Duration d) {
            swarm = swarm.withClaimWait(Objects.requireNonNull(d, "claimWait"));
            return this;
        }

        /** See {@link SwarmConfig#originStall()}. */
        public Builder originStall(Duration d) {
            swarm = swarm.withOriginStall(Objects.requireNonNull(d, "originStall"));
            return this;
        }

        /** Bound on getting one blob through the mirror or {@link Node#pull} (default 10 minutes). */
        public Builder blobTimeout(Duration d) {
            blobTimeout = Objects.requireNonNull(d, "timeout");
            return this;
        }

        /** How often discovery re-joins when alone or dials newly learnt peers (default 5 s). */
        public Builder discoveryPeriod(Duration d) {
            discoveryPeriod = Objects.requireNonNull(d, "period");
            return this;
        }

        /**
         * Further host settings (security protocols and their order, TLS engine, Yamux, connection
         * limits), applied after the node's own; may be called several times.
         */
        public Builder host(Consumer<Host.Builder> options) {
            hostOptions.add(Objects.requireNonNull(options, "options"));
            return this;
        }

        /** A shared Netty event loop group for the host and the mirror (left running on close). */
        public Builder eventLoopGroup(EventLoopGroup g) {
            group = Objects.requireNonNull(g, "group");
            return this;
        }

        /** Threads of the node's own event loop group, when none is shared (0: Netty's default). */
        public Builder ioThreads(int n) {
            ioThreads = n;
            return this;
        }

        /** A shared executor for blocking work: registry and peer transfers, mirror lookups (left running). */
        public Builder executor(ExecutorService e) {
            executor = Objects.requireNonNull(e, "executor");
            return this;
        }

        /** A shared scheduler for discovery and DHT maintenance (left running). */
        public Builder scheduler(ScheduledExecutorService s) {
            scheduler = Objects.requireNonNull(s, "scheduler");
            return this;
        }

        /** A listener for the node's events. */
        public Builder listener(NodeListener l) {
            listeners.add(Objects.requireNonNull(l, "listener"));
            return this;
        }

        /** Told of every request the HTTP mirror answers (e.g. for a latency histogram); one per node. */
        public Builder mirrorListener(MirrorListener l) {
            mirrorListener = Objects.requireNonNull(l, "listener");
            return this;
        }

        /** A service started with the node (after its parts) and closed before them. */
        public Builder service(NodeService s) {
            services.add(Objects.requireNonNull(s, "service"));
            return this;
        }

        /**
         * The node, not started yet.
         *
         * @throws IllegalArgumentException if no upstream is set
         */
        public Node build() {
            if (upstreams.isEmpty()) {
                throw new IllegalArgumentException("no upstream registry: a node needs at least one upstream");
            }
            return new Node(this);
        }

        /** Builds and starts the node. */
        public Node start() throws IOException {
            return build().start();
        }
    }

    /** A store whose writable blobs report verified bytes as they are written. */
    private static final class ProgressBlobStore implements BlobStore {
        interface Progress {
            void on(Digest digest, long size, long bytes);
        }

        private final BlobStore delegate;
        private final Progress progress;

        ProgressBlobStore(BlobStore delegate, Progress progress) {
            this.delegate = delegate;
            this.progress = progress;
        }

        @Override
        public java.util.OptionalLong size(Digest digest) {
            return delegate.size(digest);
        }

        @Override
        public InputStream open(Digest digest, long offset, long length) throws IOException {
            return delegate.open(digest, offset, length);
        }

        @Override
        public void makeRoom(Digest digest, long size) throws IOException {
            delegate.makeRoom(digest, size);
        }

        @Override
        public Optional<java.nio.channels.FileChannel> hold(Digest digest) throws IOException {
            return delegate.hold(digest);
        }

        @Override
        public boolean deleteIfCorrupt(Digest digest) throws IOException {
            return delegate.deleteIfCorrupt(digest);
        }

        @Override
        public List<Digest> list() throws IOException {
            return delegate.list();
        }

        @Override
        public WritableBlob create(Digest digest, long size) throws IOException {
            WritableBlob w = delegate.create(digest, size);
            java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
            return new WritableBlob() {
                @Override
                public java.nio.ByteBuffer read(long offset, int length) throws IOException {
                    return w.read(offset, length);
                }

                @Override
                public void write(long offset, java.nio.ByteBuffer data) throws IOException {
                    int n = data.remaining();
                    w.write(offset, data);
                    // streamed pieces are written before they verify, so a rewritten bad piece counts twice: capped
                    progress.on(digest, size, Math.min(size, written.addAndGet(n)));
                }

                @Override
                public void commit() throws IOException {
                    w.commit();
                }

                @Override
                public void abort() {
                    w.abort();
                }
            };
        }
    }
}
