package io.layerswarm.daemon.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import io.layerswarm.cache.LayerCache;
import io.layerswarm.cache.policy.ArcPolicy;
import io.layerswarm.cache.policy.Policies;
import io.layerswarm.cache.store.BlobInfo;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.cache.store.StoreListener;
import io.layerswarm.cache.store.SwarmBlobStore;
import io.layerswarm.libp2p.crypto.KeyFiles;
import io.layerswarm.libp2p.crypto.PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.kad.KadConfig;
import io.layerswarm.libp2p.kad.KadHostBinding;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.ping.Ping;
import io.layerswarm.libp2p.pnet.SwarmKey;
import io.layerswarm.mirror.DistributionServer;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.mirror.UpstreamRouter;
import io.layerswarm.node.LayerSwarm;
import io.layerswarm.node.SwarmConfig;
import io.layerswarm.registry.RegistryClient;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code layerswarm node [--config FILE] [flags]}: runs a swarm node with its pull-through registry
 * mirror until killed. The first output lines are {@code listening <multiaddr>/p2p/<peerId>} (one per
 * listen address) and {@code mirror http://HOST:PORT}; then one line per blob served or fetched.
 */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Run a swarm node with a pull-through registry mirror until killed.")
public final class NodeCommand implements Callable<Integer> {
    /** Exit status for a bad configuration. */
    public static final int BAD_CONFIG = 2;
    private static final Duration ORIGIN_GRACE = Duration.ofSeconds(1);

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML config file; flags override it.")
    Path config;

    @Option(names = "--listen", paramLabel = "MULTIADDR", description = "libp2p listen address; repeatable"
            + " (default /ip4/0.0.0.0/tcp/4001).")
    List<String> listen = new ArrayList<>();

    @Option(names = "--bootstrap", paramLabel = "MULTIADDR", description = "peer to join through, with /p2p/<id>;"
            + " repeatable.")
    List<String> bootstrap = new ArrayList<>();

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "content store directory.")
    Path cacheDir;

    @Option(names = "--cache-capacity", paramLabel = "SIZE", description = "cache size, e.g. 500MB, 1GiB or bytes;"
            + " least useful layers (ARC) are evicted beyond it. Default: unbounded.")
    String cacheCapacity;

    @Option(names = "--upstream", paramLabel = "URL", description = "upstream registry (https; http only on loopback);"
            + " repeatable, the first is the default for requests without ?ns=host[:port].")
    List<String> upstream = new ArrayList<>();

    @Option(names = "--connect-all", paramLabel = "BOOL", arity = "1", description = "keep a connection to every"
            + " peer in the DHT routing table (default true); false finds holders through provider records only.")
    Boolean connectAll;

    @Option(names = "--dht-client", description = "DHT client mode: query the DHT without serving it.")
    boolean dhtClient;

    @Option(names = "--mirror-listen", paramLabel = "HOST:PORT", description = "mirror address"
            + " (default 127.0.0.1:5000).")
    String mirrorListen;

    @Option(names = "--swarm-key", paramLabel = "FILE", description = "private network key file.")
    Path swarmKey;

    @Option(names = "--key", paramLabel = "FILE", description = "identity key file (created if missing).")
    Path key;

    @Option(names = "--max-uploads", paramLabel = "N", description = "piece uploads served at once (default 3).")
    Integer maxUploads;

    @Option(names = "--piece-size", paramLabel = "SIZE", description = "piece size (default 4MiB).")
    String pieceSize;

    private final CountDownLatch stopped = new CountDownLatch(1);

    /** Reads the config file and applies the flags over it. */
    NodeConfig.Settings settings() {
        NodeConfig c = config == null ? new NodeConfig() : NodeConfig.load(config);
        if (!listen.isEmpty()) {
            c.listen = new ArrayList<>(listen);
        }
        if (!bootstrap.isEmpty()) {
            c.bootstrap = new ArrayList<>(bootstrap);
        }
        if (cacheDir != null) {
            c.cacheDir = cacheDir;
        }
        if (cacheCapacity != null) {
            c.cacheCapacity = cacheCapacity;
        }
        if (!upstream.isEmpty()) {
            List<NodeConfig.Upstream> ups = new ArrayList<>();
            for (String url : upstream) {
                // credentials of the file's upstreams stay valid when the flags name the same registries
                NodeConfig.Upstream u = c.upstreams.stream().filter(f -> f != null && url.equals(f.url)).findFirst()
                        .orElseGet(NodeConfig.Upstream::new);
                u.url = url;
                ups.add(u);
            }
            c.upstreams = ups;
        }
        if (connectAll != null) {
            if (c.discovery == null) {
                c.discovery = new NodeConfig.Discovery();
            }
            c.discovery.connectAll = connectAll;
        }
        if (dhtClient) {
            if (c.discovery == null) {
                c.discovery = new NodeConfig.Discovery();
            }
            c.discovery.dhtClient = true;
        }
        if (mirrorListen != null) {
            c.mirrorListen = mirrorListen;
        }
        if (swarmKey != null) {
            c.swarmKey = swarmKey;
        }
        if (key != null) {
            c.key = key;
        }
        if (maxUploads != null) {
            c.maxUploads = maxUploads;
        }
        if (pieceSize != null) {
            c.pieceSize = pieceSize;
        }
        return c.validate();
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        NodeConfig.Settings s;
        PrivateKey identity;
        SwarmKey psk = null;
        try {
            s = settings();
            Path keyDir = s.key().toAbsolutePath().getParent();
            if (keyDir != null) {
                java.nio.file.Files.createDirectories(keyDir);
            }
            identity = KeyFiles.loadOrGenerate(s.key());
            if (s.swarmKey() != null) {
                psk = SwarmKey.read(s.swarmKey());
            }
        } catch (Exception e) {
            err.println("error: " + oneLine(e));
            err.flush();
            return BAD_CONFIG;
        }
        List<AutoCloseable> open = new ArrayList<>();
        ExecutorService io = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "node-io");
            t.setDaemon(true);
            return t;
        });
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "node-discovery");
            t.setDaemon(true);
            return t;
        });
        try {
            ContentStore cs = ContentStore.open(s.cacheDir());
            open.add(cs);
            SwarmBlobStore blobs = new SwarmBlobStore(cs);
            LayerCache cache = null;
            // The cache is opened before the swarm exists; it learns replica counts once the swarm runs.
            java.util.concurrent.atomic.AtomicReference<LayerSwarm> swarmRef = new java.util.concurrent.atomic.AtomicReference<>();
            if (s.cacheCapacity() > 0) {
                Path journal = s.cacheDir().resolveSibling(s.cacheDir().getFileName() + ".journal.json");
                // cluster-aware ARC: evict what other nodes also hold first, keep the cluster's last copy
                // (on the generated trace it raised the cluster byte hit ratio over plain ARC at every size)
                cache = LayerCache.open(cs, ArcPolicy.clusterAware(s.cacheCapacity(), key -> replicasElsewhere(swarmRef, key),
                        Policies.DEFAULT_CLUSTER_WINDOW), journal);
                open.add(cache);
            }
            Host.Builder hb = Host.builder(identity);
            s.listen().forEach(hb::listen);
            if (psk != null) {
                hb.swarmKey(psk);
            }
            Host host = hb.build().start();
            open.add(host);
            Identify.attach(host);
            Ping.attach(host);
            KadHostBinding kad = KadHostBinding.attach(host, KadConfig.defaults().withClientMode(s.dhtClient()),
                    Duration.ofSeconds(10));
            open.add(kad);
            SwarmConfig d = SwarmConfig.defaults();
            // Separate processes see each other's "fetching" announcements later than in-process
            // nodes; a longer grace lets every concurrent fetcher be known before registry pieces are split.
            LayerSwarm swarm = LayerSwarm.start(host, blobs, new SwarmConfig(s.pieceSize(), s.maxUploads(),
                    d.uploadSlotWait(), d.download(), ORIGIN_GRACE, d.originStall(), d.peerTimeout()));
            open.add(swarm);
            swarmRef.set(swarm);
            Map<String, PullThroughProvider> pullThroughs = new LinkedHashMap<>();
            for (NodeConfig.UpstreamSettings u : s.upstreams()) {
                RegistryClient.Builder rb = RegistryClient.builder(u.url());
                if (u.username() != null) {
                    rb.credentials(u.username(), u.password());
                }
                pullThroughs.put(u.namespace(), new PullThroughProvider(rb.build(), blobs, swarm, io,
                        Duration.ofMinutes(10)));
            }
            ManifestExchange exchange = ManifestExchange.attach(host, pullThroughs, Duration.ofSeconds(10));
            KadDiscovery discovery = new KadDiscovery(host, kad, s.bootstrap(), s.connectAll());
            cs.addListener(new StoreListener() {
                @Override
                public void onCommitted(io.layerswarm.oci.Digest digest, long size) {
                    discovery.provide(digest); // asynchronous: the DHT learns of every verified commit
                }

                @Override
                public void onDeleted(io.layerswarm.oci.Digest digest) {
                    // evicted: peers and the DHT must stop counting on this copy
                    swarm.announceDropped(digest);
                    discovery.stopProviding(digest);
                }
            });
            LayerCache counted = cache;
            Map<String, NodeContentProvider> byNamespace = new LinkedHashMap<>();
            pullThroughs.forEach((ns, p) -> byNamespace.put(ns, new NodeContentProvider(ns, p, blobs, swarm,
                    discovery, exchange, counted == null ? d2 -> { } : counted::access,
                    counted == null ? d2 -> () -> { } : counted::pin)));
            DistributionServer mirror = DistributionServer.start(s.mirrorListen(), new UpstreamRouter(byNamespace));
            open.add(mirror);

            for (Multiaddr a : host.listenAddrs()) {
                out.println("listening " + a + "/p2p/" + host.peerId().toBase58());
            }
            out.println("mirror " + mirror.url());
            out.flush();
            logEventsToStdout();

            discovery.start(scheduler, Duration.ofSeconds(5));
            scheduler.execute(() -> {
                try {
                    for (BlobInfo b : cs.list()) {
                        discovery.provide(b.digest());
                    }
                } catch (java.io.IOException e) {
                    LoggerFactory.getLogger(NodeCommand.class).warn("event=list_failed error={}", e.toString());
                }
            });
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                closeAll(open);
                stopped.countDown();
            }, "node-shutdown"));
            stopped.await();
            return 0;
        } catch (Exception e) {
            err.println("error: " + oneLine(e));
            err.flush();
            closeAll(open);
            return 1;
        } finally {
            scheduler.shutdownNow();
            io.shutdownNow();
        }
    }

    private static void closeAll(List<AutoCloseable> open) {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                // shutting down: nothing more to do with it
            }
        }
        open.clear();
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        return m.replaceAll("\\s+", " ");
    }

    /** Blob served/fetched events (and discovery) go to stdout, after the address lines. */
    private static void logEventsToStdout() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
            return;
        }
        PatternLayoutEncoder enc = new PatternLayoutEncoder();
        enc.setContext(ctx);
        enc.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{0} %msg%n");
        enc.start();
        ConsoleAppender<ILoggingEvent> app = new ConsoleAppender<>();
        app.setContext(ctx);
        app.setName("node-events");
        app.setTarget("System.out");
        app.setEncoder(enc);
        app.start();
        for (String name : List.of(PullThroughProvider.class.getName(), NodeContentProvider.class.getName(),
                KadDiscovery.class.getName(), ManifestExchange.class.getName())) {
            ch.qos.logback.classic.Logger l = ctx.getLogger(name);
            if (!l.isInfoEnabled()) {
                l.setLevel(Level.INFO);
            }
            l.addAppender(app);
            l.setAdditive(false);
        }
    }

    /** Peers holding a layer, from the swarm's announcements; 0 while the swarm is not up or slow to answer. */
    private static int replicasElsewhere(java.util.concurrent.atomic.AtomicReference<LayerSwarm> swarm, String key) {
        LayerSwarm sw = swarm.get();
        if (sw == null) {
            return 0;
        }
        try {
            return sw.holders(io.layerswarm.oci.Digest.parse(key)).get(1, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        } catch (IllegalArgumentException | java.util.concurrent.ExecutionException
                 | java.util.concurrent.TimeoutException e) {
            return 0;
        }
    }
}
