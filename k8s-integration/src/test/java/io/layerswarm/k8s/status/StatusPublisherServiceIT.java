package io.layerswarm.k8s.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.Node;
import io.layerswarm.node.PulledImage;
import io.layerswarm.oci.Platform;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real node (with the publisher service) pulls a corpus image from a real docker-registry; the
 * scheduler's light peer, a bare host serving the status protocol into a {@link SwarmClusterView},
 * sees the node under its name with the layers it holds, and sees them go once the cache evicts them.
 */
class StatusPublisherServiceIT {
    @TempDir
    Path tmp;
    private final Closer open = new Closer();

    @AfterEach
    void tearDown() throws Exception {
        open.close();
    }

    private <T extends AutoCloseable> T add(T c) {
        open.add(c);
        return c;
    }

    @Test
    void theLightPeerSeesTheNodesLayersArriveAndLeave() throws Exception {
        Corpus corpus = Corpus.small();
        Corpus.Image image = corpus.largest();
        RegistryFixture registry = add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        corpus.pushTo(registry.baseUri().toString());

        Node node = add(Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve("node"))
                .upstream(registry.baseUri()).noMirror().cacheCapacity(1L << 30)
                .service(new StatusPublisherService("edge-a", Duration.ofMillis(200), Clock.systemUTC()))
                .start());

        SwarmClusterView view = new SwarmClusterView(new StatusRecordCodec(),
                new StatusRecordVerifier(Clock.systemUTC(), Duration.ofMinutes(5), Duration.ofSeconds(5)), Clock.systemUTC(), Map.of());
        Host scheduler = add(Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .ioThreads(1).build().start());
        Identify.attach(scheduler);
        NodeStatusProtocol.attach(scheduler, view);
        scheduler.connect(node.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + node.peerId().toBase58())))
                .get(10, TimeUnit.SECONDS);

        NodeStatus empty = await(view, s -> true, "a first record");
        String layer = image.layers().get(0).digest();
        assertFalse(empty.holds(layer), "nothing pulled yet");
        assertEquals(1L << 30, empty.capacityBytes());
        assertTrue(empty.registries().isEmpty() && empty.peers().isEmpty(), "no invented link figures");

        PulledImage pulled = node.pull(registry.hostPort(), image.name(), image.tag(), Platform.linuxAmd64());
        assertEquals(image.manifestDigest(), pulled.digest().toString());
        NodeStatus full = await(view, s -> image.layers().stream().allMatch(l -> s.holds(l.digest())), "the pulled layers");
        for (Corpus.Layer l : image.layers()) {
            assertEquals(l.size(), full.layers().get(l.digest()), "size of " + l.digest());
        }
        assertTrue(full.freeBytes() < (1L << 30), "the cache counts the layers: free " + full.freeBytes());

        // shrinking the cache evicts every unpinned layer; the next record says so
        node.cache().orElseThrow().setCapacity(1);
        // the store deletes blob by blob: a record built mid-way may still list some, so await them all gone
        NodeStatus evicted = await(view, s -> image.layers().stream().noneMatch(l -> s.holds(l.digest())), "the eviction");
        assertEquals(1, evicted.capacityBytes());
        assertTrue(image.layers().stream().noneMatch(l -> evicted.holds(l.digest())), "every layer evicted: " + evicted.layers());
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new StatusPublisherService(" "));
        assertThrows(IllegalArgumentException.class,
                () -> new StatusPublisherService("a", Duration.ZERO, Clock.systemUTC()));
    }

    private static NodeStatus await(SwarmClusterView view, Predicate<NodeStatus> p, String what) throws InterruptedException {
        return Await.until(Duration.ofSeconds(60), what, () -> view.node("edge-a"), s -> s.isPresent() && p.test(s.get())).get();
    }
}
