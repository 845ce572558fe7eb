package io.layerswarm.daemon.demo;

import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.mirror.DistributionServer;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.node.LayerSwarm;
import io.layerswarm.node.SwarmBlobStore;
import io.layerswarm.node.SwarmConfig;
import io.layerswarm.registry.RegistryClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Deploys one image to several in-process nodes at once on loopback, either through the swarm (each
 * node pulls through its own {@link PullThroughProvider} mirror; nodes are fully connected) or with
 * every node pulling straight from the origin, and reports where each node's bytes came from.
 */
public final class FanOut {
    private FanOut() {
    }

    /**
     * The origin registry: a {@link DistributionServer} over an OCI layout, reachable only through an
     * {@link UplinkEmulator}.
     */
    public static final class Origin implements AutoCloseable {
        private final LayoutContentProvider content;
        private final DistributionServer server;
        private final UplinkEmulator uplink;
        /** Repository name the image is served under. */
        public final String repository;
        /** Tag of the image. */
        public final String tag;

        private Origin(LayoutContentProvider content, DistributionServer server, UplinkEmulator uplink,
                       String repository, String tag) {
            this.content = content;
            this.server = server;
            this.uplink = uplink;
            this.repository = repository;
            this.tag = tag;
        }

        /**
         * Serves the first tagged image of {@code layoutDir} as {@code repository} behind an uplink of
         * {@code bitsPerSecond} and {@code addedRtt}.
         */
        public static Origin start(Path layoutDir, String repository, long bitsPerSecond, Duration addedRtt)
                throws IOException, InterruptedException {
            LayoutContentProvider content = LayoutContentProvider.open(repository, layoutDir);
            if (content.layout().refs().isEmpty()) {
                throw new IOException("layout " + layoutDir + " has no tagged image (org.opencontainers.image.ref.name)");
            }
            String tag = content.layout().refs().get(0);
            DistributionServer server = DistributionServer.start(new InetSocketAddress("127.0.0.1", 0), content);
            try {
                UplinkEmulator uplink = UplinkEmulator.start(new InetSocketAddress("127.0.0.1", 0), server.address(),
                        bitsPerSecond, addedRtt);
                return new Origin(content, server, uplink, repository, tag);
            } catch (IOException | RuntimeException e) {
                server.close();
                throw e;
            }
        }

        /** Base URL of the origin as seen through the uplink. */
        public URI url() {
            return URI.create(uplink.url());
        }

        /**
         * Base URL of the registry itself, bypassing the uplink (to seed nodes before a measurement;
         * its bytes count in {@link #blobBytesServed()} too).
         */
        public URI directUrl() {
            return URI.create(server.url());
        }

        /** Blob bytes the origin has served so far. */
        public long blobBytesServed() {
            return content.blobBytesServed();
        }

        /** Config and layer bytes of the image. */
        public long imageBlobBytes() throws IOException {
            var m = content.layout().manifest(tag);
            return m.config().size() + m.layers().stream().mapToLong(l -> l.size()).sum();
        }

        @Override
        public void close() {
            uplink.close();
            server.close();
        }
    }

    /**
     * One node's deployment.
     *
     * @param name node name
     * @param elapsed time to an unpacked rootfs
     * @param peerBytes blob bytes from peers
     * @param originBytes blob bytes from the origin registry
     * @param rootfs digest of the unpacked root filesystem
     */
    public record NodeReport(String name, Duration elapsed, long peerBytes, long originBytes, RootfsDigest rootfs) {
    }

    /**
     * A whole fan-out.
     *
     * @param nodes per-node results
     * @param allDone time until the last node finished
     * @param originBlobBytes blob bytes the origin served during the run
     */
    public record Report(List<NodeReport> nodes, Duration allDone, long originBlobBytes) {

        /** Whether every node unpacked the same rootfs. */
        public boolean identicalRootfs() {
            return nodes.stream().map(NodeReport::rootfs).distinct().count() == 1;
        }
    }

    /**
     * {@code n} fully connected swarm nodes deploy the origin's image at once, each through its own
     * pull-through mirror.
     *
     * @param pieceSize swarm piece size (small images want small pieces to spread the origin load)
     */
    public static Report throughSwarm(Origin origin, int n, Path workDir, int pieceSize) throws Exception {
        return throughSwarm(origin, n, workDir, pieceSize, SwarmConfig.defaults().claimWait(), true);
    }

    /**
     * Like {@link #throughSwarm(Origin, int, Path, int)} with the swarm's claim wait (see
     * {@link SwarmNode#start}); {@code unpack == false} stops at the layout.
     */
    public static Report throughSwarm(Origin origin, int n, Path workDir, int pieceSize, Duration claimWait,
                                      boolean unpack)
            throws Exception {
        List<AutoCloseable> closers = new ArrayList<>();
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fanout");
            t.setDaemon(true);
            return t;
        });
        try {
            List<SwarmNode> nodes = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                nodes.add(add(closers, SwarmNode.start("127.0.0.1", workDir.resolve("node" + i), origin.url(), pieceSize,
                        claimWait, io.layerswarm.node.SwarmConfig.defaults().originStall(), pool)));
            }
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    nodes.get(i).connect(nodes.get(j).address());
                }
            }
            List<ContentStore> stores = nodes.stream().map(SwarmNode::store).toList();
            return deployAll(origin, "node", stores, i -> nodes.get(i).mirrorClient(),
                    (i, r) -> new long[] {nodes.get(i).peerBytes(), nodes.get(i).originBytes()}, workDir, unpack, pool);
        } finally {
            for (int i = closers.size() - 1; i >= 0; i--) {
                try {
                    closers.get(i).close();
                } catch (Exception ignored) {
                    // best effort: the run's result stands
                }
            }
            pool.shutdownNow();
        }
    }

    /**
     * Like {@link #throughSwarm(Origin, int, Path, int, Duration, boolean)}, but every node is its own
     * JVM ({@link NodeProcess}, started with this JVM's class path), as in a real cluster: nodes learn
     * of each other's fetches only over the network. The nodes are started and fully connected first;
     * the time runs from telling all of them to deploy until the last one reports.
     */
    public static Report throughSwarmProcesses(Origin origin, int n, Path workDir, int pieceSize, Duration claimWait,
                                               boolean unpack) throws Exception {
        List<NodeChild> children = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                Path dir = java.nio.file.Files.createDirectories(workDir.resolve("node" + i));
                children.add(NodeChild.launch("node" + i, NodeProcess.class, "127.0.0.1", dir.toString(),
                        origin.url().toString(), origin.repository, origin.tag, String.valueOf(pieceSize / 1024),
                        String.valueOf(claimWait.toMillis())));
            }
            List<String> addrs = new ArrayList<>();
            for (NodeChild c : children) {
                addrs.add(c.expect("addr ").substring(5));
            }
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    children.get(i).send("peer " + addrs.get(j));
                }
                children.get(i).send("connect");
                children.get(i).expect("connected");
            }
            long servedBefore = origin.blobBytesServed();
            long start = System.nanoTime();
            for (NodeChild c : children) {
                c.send(unpack ? "go" : "go layout");
            }
            List<NodeReport> reports = new ArrayList<>();
            long last = start;
            for (NodeChild c : children) {
                String[] f = c.expect("done ").split(" ");
                last = Math.max(last, c.lastLineNanos());
                reports.add(new NodeReport(c.name(), Duration.ofMillis(Long.parseLong(f[1])), Long.parseLong(f[2]),
                        Long.parseLong(f[3]), new RootfsDigest(f[4], Integer.parseInt(f[5]))));
            }
            return new Report(reports, Duration.ofNanos(last - start), origin.blobBytesServed() - servedBefore);
        } finally {
            for (NodeChild c : children) {
                c.close();
            }
        }
    }

    /** {@code n} nodes each pull the image straight from the origin at the same time (no swarm). */
    public static Report direct(Origin origin, int n, Path workDir) throws Exception {
        return direct(origin, n, workDir, true);
    }

    /** Like {@link #direct(Origin, int, Path)}; {@code unpack == false} stops at the layout. */
    public static Report direct(Origin origin, int n, Path workDir, boolean unpack) throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "direct");
            t.setDaemon(true);
            return t;
        });
        List<ContentStore> stores = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                stores.add(ContentStore.open(workDir.resolve("direct" + i).resolve("store")));
            }
            RegistryClient client = RegistryClient.builder(origin.url()).build();
            return deployAll(origin, "direct", stores, i -> client, (i, r) -> new long[] {0, r.blobBytes()}, workDir,
                    unpack, pool);
        } finally {
            for (ContentStore cs : stores) {
                cs.close();
            }
            pool.shutdownNow();
        }
    }

    /** All nodes deploy at once; the report is built after the last one finished. */
    private static Report deployAll(Origin origin, String prefix, List<ContentStore> stores,
                                    java.util.function.IntFunction<RegistryClient> clients,
                                    java.util.function.BiFunction<Integer, Deployment.Result, long[]> peerAndOrigin,
                                    Path workDir, boolean unpack, ExecutorService pool) throws Exception {
        long servedBefore = origin.blobBytesServed();
        long start = System.nanoTime();
        List<CompletableFuture<Finished>> runs = new ArrayList<>();
        for (int i = 0; i < stores.size(); i++) {
            int k = i;
            runs.add(CompletableFuture.supplyAsync(() -> {
                Deployment.Result r = deploy(clients.apply(k), origin, stores.get(k), workDir.resolve(prefix + k), unpack,
                        pool);
                return new Finished(r, System.nanoTime());
            }, pool));
        }
        List<Finished> done = join(runs);
        long served = origin.blobBytesServed() - servedBefore;
        List<NodeReport> reports = new ArrayList<>();
        for (int i = 0; i < stores.size(); i++) {
            Deployment.Result r = done.get(i).result();
            long[] bytes = peerAndOrigin.apply(i, r);
            reports.add(new NodeReport(prefix + i, r.elapsed(), bytes[0], bytes[1], RootfsDigest.of(r.rootfs())));
        }
        return new Report(reports, lastDone(done, start), served);
    }

    private static Deployment.Result deploy(RegistryClient client, Origin origin, ContentStore store, Path dir,
                                            boolean unpack, ExecutorService pool) {
        try {
            return Deployment.run(client, origin.repository, origin.tag, store, dir.resolve("layout"),
                    dir.resolve("rootfs"), unpack, pool);
        } catch (IOException e) {
            throw new CompletionException(e);
        }
    }

    /** A deployment and when it ended (rootfs digests are taken afterwards, outside the timing). */
    private record Finished(Deployment.Result result, long endNanos) {
    }

    private static Duration lastDone(List<Finished> done, long start) {
        return Duration.ofNanos(done.stream().mapToLong(Finished::endNanos).max().orElse(start) - start);
    }

    private static <T> List<T> join(List<CompletableFuture<T>> runs) throws Exception {
        List<T> out = new ArrayList<>();
        for (CompletableFuture<T> f : runs) {
            try {
                out.add(f.get(10, TimeUnit.MINUTES));
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable c = e.getCause() instanceof CompletionException ce && ce.getCause() != null ? ce.getCause()
                        : e.getCause();
                throw c instanceof Exception ex ? ex : e;
            }
        }
        return out;
    }

    /** Deletes a work directory tree (stores, layouts, rootfs) if it exists. */
    public static void deleteTree(Path root) throws IOException {
        if (java.nio.file.Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (var paths = java.nio.file.Files.walk(root)) {
                for (Path p : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                    java.nio.file.Files.delete(p);
                }
            }
        }
    }

    private static <T extends AutoCloseable> T add(List<AutoCloseable> closers, T c) {
        closers.add(c);
        return c;
    }
}
