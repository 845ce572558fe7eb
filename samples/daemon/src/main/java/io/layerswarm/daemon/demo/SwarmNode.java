package io.layerswarm.daemon.demo;

import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.Node;
import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.NodeListener;
import io.layerswarm.node.SwarmConfig;
import io.layerswarm.registry.RegistryClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One edge node of the demo: a {@link Node} (host, DHT, swarm, store, pull-through mirror on loopback
 * that the node's runtime pulls from) with a fresh identity, counting where the mirror's blob bytes
 * came from.
 */
public final class SwarmNode implements AutoCloseable {
    private final Node node;
    private final RegistryClient mirrorClient;
    private final AtomicLong peerBytes;
    private final AtomicLong originBytes;

    private SwarmNode(Node node, AtomicLong peerBytes, AtomicLong originBytes) {
        this.node = node;
        this.mirrorClient = RegistryClient.builder(node.mirrorUrl().orElseThrow()).build();
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
     * @param claimWait the longest a new download waits for connected peers to answer its claim
     * @param originStall how long a fetcher assigned a piece may show no progress before others take
     *     that piece from the registry
     * @param pool runs blocking registry range requests and mirror lookups
     */
    public static SwarmNode start(String bindIp, Path dir, URI upstream, int pieceSize, Duration claimWait,
                                  Duration originStall, ExecutorService pool) throws IOException {
        SwarmConfig d = SwarmConfig.defaults().withPieceSize(pieceSize);
        AtomicLong peer = new AtomicLong();
        AtomicLong origin = new AtomicLong();
        Node node = Node.builder()
                .identity(Ed25519PrivateKey.generate())
                .listen(Multiaddr.parse("/ip4/" + bindIp + "/tcp/0"))
                .storeDir(dir.resolve("store"))
                .upstream(upstream)
                .mirrorListen(new InetSocketAddress("127.0.0.1", 0))
                .swarmConfig(new SwarmConfig(d.pieceSize(), d.maxUploads(), d.uploadSlotWait(), d.download(),
                        claimWait, originStall, d.peerTimeout()))
                .blobTimeout(Duration.ofMinutes(5))
                .executor(pool)
                .listener(new NodeListener() {
                    @Override
                    public void blobFetched(NodeEvent.BlobFetched e) {
                        peer.addAndGet(e.peerBytes());
                        origin.addAndGet(e.registryBytes());
                    }
                })
                .start();
        return new SwarmNode(node, peer, origin);
    }

    /** The host's first listen address with {@code /p2p/<peer id>}, for other nodes to dial. */
    public Multiaddr address() {
        return node.listenAddrs().get(0);
    }

    /** Dials another node. */
    public void connect(Multiaddr peer) throws IOException {
        node.connect(peer, Duration.ofSeconds(10));
    }

    /** The node's content store. */
    public ContentStore store() {
        return node.store();
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
        node.close();
    }
}
