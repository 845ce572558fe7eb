package io.layerswarm.node;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** Swarm nodes on real libp2p hosts over loopback, closed together at the end of a test. */
final class TestCluster implements AutoCloseable {
    record Node(Host host, DirBlobStore store, LayerSwarm swarm) {
    }

    final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<AutoCloseable> closers = new ArrayList<>();
    private final Path dir;

    TestCluster(Path dir) {
        this.dir = dir;
    }

    <T extends AutoCloseable> T add(T resource) {
        closers.add(resource);
        return resource;
    }

    /**
     * For tests that assert the registry sends each byte about once: claims and silent fetchers are
     * waited for far longer than the defaults, so a CPU-starved CI machine tests the protocol, not its
     * speed (answered claims never wait).
     */
    static SwarmConfig patient(SwarmConfig c) {
        return c.withClaimWait(java.time.Duration.ofSeconds(30)).withOriginStall(java.time.Duration.ofSeconds(60));
    }

    Node node(String name, SwarmConfig config) throws Exception {
        return node(name, config, b -> { });
    }

    /** A node whose host is built with {@code hostSettings} applied (e.g. a bandwidth limit). */
    Node node(String name, SwarmConfig config, java.util.function.Consumer<Host.Builder> hostSettings)
            throws Exception {
        Host.Builder builder = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));
        hostSettings.accept(builder);
        Host h = add(builder.build().start());
        DirBlobStore store = new DirBlobStore(dir.resolve(name));
        return new Node(h, store, add(LayerSwarm.start(h, store, config)));
    }

    static void connectAll(List<Host> hosts) throws Exception {
        for (int i = 0; i < hosts.size(); i++) {
            for (int j = i + 1; j < hosts.size(); j++) {
                Host target = hosts.get(j);
                hosts.get(i).connect(target.listenAddrs().get(0)
                        .encapsulate(Multiaddr.parse("/p2p/" + target.peerId().toBase58()))).get(10, TimeUnit.SECONDS);
            }
        }
    }

    @Override
    public void close() throws Exception {
        for (int i = closers.size() - 1; i >= 0; i--) {
            closers.get(i).close();
        }
        pool.shutdownNow();
    }
}
