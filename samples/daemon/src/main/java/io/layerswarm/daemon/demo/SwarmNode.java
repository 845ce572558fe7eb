package io.layerswarm.daemon.demo;

import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.cache.store.SwarmBlobStore;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.mirror.DistributionServer;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.node.LayerSwarm;
import io.layerswarm.node.SwarmConfig;
import io.layerswarm.registry.RegistryClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One edge node: a libp2p host, a content store, the swarm over it and a pull-through mirror on
 * loopback that the node's runtime pulls from. Counts where the mirror's blob bytes came from.
 */
public final class SwarmNode implements AutoCloseable {
    private final List<AutoCloseable> closers;
    private final Host host;
    private final ContentStore store;
    private final RegistryClient mirrorClient;
    private final AtomicLong peerBytes;
    private final AtomicLong originBytes;

    private SwarmNode(List<AutoCloseable> closers, Host host, ContentStore store, RegistryClient mirrorClient,
                      AtomicLong peerBytes, AtomicLong originBytes) {
        this.closers = closers;
        this.host = host;
        this.store = store;
        this.mirrorClient = mirrorClient;
        this.peerBytes = peerBytes;
        this.originBytes = originBytes;
    }

    /**
     * Starts a node.
     *
     * @param bindIp address the libp2p host listens on (port chosen by the system)
     * @param dir the node's directory (its store lives in {@code dir/store})
     * @param upstream the origin registry
     * @param pieceSize swarm piece size
     * @param originGrace how long a new download waits before taking pieces from the origin, so that
     *     nodes starting together learn of each other and split the origin pieces between them
     * @param pool runs blocking registry range requests
     */
    public static SwarmNode start(String bindIp, Path dir, URI upstream, int pieceSize, Duration originGrace,
                                  ExecutorService pool) throws IOException, InterruptedException {
        List<AutoCloseable> closers = new ArrayList<>();
        try {
            Host h = Host.builder(Ed25519PrivateKey.generate())
                    .listen(Multiaddr.parse("/ip4/" + bindIp + "/tcp/0")).build().start();
            closers.add(h);
            ContentStore cs = ContentStore.open(dir.resolve("store"));
            closers.add(cs);
            SwarmBlobStore bs = new SwarmBlobStore(cs);
            SwarmConfig d = SwarmConfig.defaults().withPieceSize(pieceSize);
            SwarmConfig config = new SwarmConfig(d.pieceSize(), d.maxUploads(), d.uploadSlotWait(), d.download(),
                    originGrace, d.originStall(), d.peerTimeout());
            LayerSwarm swarm = LayerSwarm.start(h, bs, config);
            closers.add(swarm);
            AtomicLong peer = new AtomicLong();
            AtomicLong origin = new AtomicLong();
            DistributionServer mirror = DistributionServer.start(new InetSocketAddress("127.0.0.1", 0),
                    new PullThroughProvider(RegistryClient.builder(upstream).build(), bs, swarm, pool,
                            Duration.ofMinutes(5), r -> {
                                peer.addAndGet(r.peerBytes());
                                origin.addAndGet(r.originBytes());
                            }));
            closers.add(mirror);
            return new SwarmNode(closers, h, cs, RegistryClient.builder(URI.create(mirror.url())).build(), peer, origin);
        } catch (IOException | InterruptedException | RuntimeException e) {
            closeAll(closers);
            throw e;
        }
    }

    /** The host's first listen address with {@code /p2p/<peer id>}, for other nodes to dial. */
    public Multiaddr address() {
        return host.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + host.peerId().toBase58()));
    }

    /** Dials another node. */
    public void connect(Multiaddr peer) throws Exception {
        host.connect(peer).get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** The node's content store. */
    public ContentStore store() {
        return store;
    }

    /** A registry client for this node's own pull-through mirror. */
    public RegistryClient mirrorClient() {
        return mirrorClient;
    }

    /** Blob bytes the mirror got from peers. */
    public long peerBytes() {
        return peerBytes.get();
    }

    /** Blob bytes the mirror got from the origin. */
    public long originBytes() {
        return originBytes.get();
    }

    @Override
    public void close() {
        closeAll(closers);
    }

    private static void closeAll(List<AutoCloseable> closers) {
        for (int i = closers.size() - 1; i >= 0; i--) {
            try {
                closers.get(i).close();
            } catch (Exception ignored) {
                // best effort on shutdown
            }
        }
    }
}
