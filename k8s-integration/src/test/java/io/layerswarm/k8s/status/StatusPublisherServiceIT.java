package io.layerswarm.k8s.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.scoring.DeploymentTimeModel;
import io.layerswarm.k8s.scoring.ImageLayers;
import io.layerswarm.k8s.scoring.LayerInfo;
import io.layerswarm.k8s.scoring.NetworkPerformanceScorer;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.scoring.PredictedTimeScorer;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.MutableClusterView;
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
import io.layerswarm.testing.FaultProxy;
import io.layerswarm.testing.RegistryFixture;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real node (with the publisher service) pulls a corpus image from a real docker-registry; the
 * scheduler's light peer, a bare host serving the status protocol into a {@link SwarmClusterView},
 * sees the node under its name with the layers it holds and the links it measured, and sees the layers
 * go once the cache evicts them.
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

        SwarmClusterView view = lightPeer(node);

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
        NodeStatus measured = await(view, s -> s.registries().containsKey("*"), "a measured registry link");
        assertTrue(measured.registries().get(registry.hostPort()).bytesPerSecond() > 0,
                "the pull's pieces give the upstream a rate: " + measured.registries());
        assertEquals(measured.registries().get(registry.hostPort()), measured.registries().get("*"), "the default upstream is the uplink");

        // shrinking the cache evicts every unpinned layer; the next record says so
        node.cache().orElseThrow().setCapacity(1);
        // the store deletes blob by blob: a record built mid-way may still list some, so await them all gone
        NodeStatus evicted = await(view, s -> image.layers().stream().noneMatch(l -> s.holds(l.digest())), "the eviction");
        assertEquals(1, evicted.capacityBytes());
        assertTrue(image.layers().stream().noneMatch(l -> evicted.holds(l.digest())), "every layer evicted: " + evicted.layers());
    }

    /**
     * A scheduler that connects after the node's periodic round gets the node's record at once (when
     * identify says it listens), not a period later: the first round ran before it connected, so with a
     * 90 s period (records live three, within the view's 5 min cap) the view would stay empty past the deadline.
     */
    @Test
    void aSchedulerConnectingLaterGetsTheRecordWithoutWaitingAPeriod() throws Exception {
        RegistryFixture registry = add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        Node node = add(Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve("late"))
                .upstream(registry.baseUri()).noMirror().cacheCapacity(1L << 30)
                .service(new StatusPublisherService("edge-a", Duration.ofSeconds(90), Clock.systemUTC()))
                .start());
        SwarmClusterView view = lightPeer(node);
        NodeStatus first = Await.until(Duration.ofSeconds(20), "the record pushed on connect", () -> view.node("edge-a"),
                Optional::isPresent).get();
        assertEquals(1L << 30, first.capacityBytes());
    }

    /**
     * Two nodes: edge-near fetches from the registry directly, edge-far through a relay that adds 300 ms
     * to every request (a distant registry). After real pulls their records carry what they measured (the
     * registry link, and edge-far's link to edge-near, which sent it an image over the swarm, found by
     * node name), and for an image neither holds, predicted time and NetworkPerformance rank first the
     * node whose measured link predicts the faster fetch, where the same records without links tie.
     */
    @Test
    void recordsCarryMeasuredLinksAndTheFasterMeasuredLinkRanksFirst() throws Exception {
        Corpus corpus = Corpus.small();
        Corpus.Image x = corpus.images().get(0);
        Corpus.Image y = corpus.images().get(1);
        RegistryFixture registry = add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        corpus.pushTo(registry.baseUri().toString());
        FaultProxy distant = add(FaultProxy.start(registry.baseUri()));
        distant.delayEveryRequest(300);
        Node fast = add(publishingNode("edge-near", registry.baseUri()));
        Node slow = add(publishingNode("edge-far", distant.baseUri()));
        SwarmClusterView view = lightPeer(fast, slow);

        fast.pull(registry.hostPort(), x.name(), x.tag(), Platform.linuxAmd64());
        String distantNs = slow.namespaces().get(0);
        slow.pull(distantNs, y.name(), y.tag(), Platform.linuxAmd64());
        slow.connect(fast.listenAddrs().get(0), Duration.ofSeconds(10));
        slow.pull(distantNs, x.name(), x.tag(), Platform.linuxAmd64());

        Predicate<NodeStatus> probed = s -> s.registries().containsKey("*") && s.registries().get("*").rttMillis() > 0;
        NodeStatus f = await(view, "edge-near", probed, "edge-near's measured and probed registry link");
        NodeStatus sl = await(view, "edge-far", s -> probed.test(s) && s.peers().containsKey("edge-near"),
                "edge-far's registry link and its link to edge-near");
        LinkEstimate peerLink = sl.peers().get("edge-near");
        assertTrue(peerLink.bytesPerSecond() > 0 && peerLink.rttMillis() >= 0, "measured peer link: " + peerLink);
        assertTrue(sl.registries().get("*").rttMillis() >= 300, "the probe went through the 300 ms relay: " + sl.registries());
        // which node is faster is what the nodes measured (the relay's delay makes edge-far's pieces slower, but
        // on a loaded machine the direct registry is slow too): scoring must rank the one the links predict faster
        ImageLayers fresh = new ImageLayers(registry.hostPort() + "/fresh:1", registry.hostPort(), "sha256:" + "0".repeat(64),
                List.of(new LayerInfo("sha256:" + "1".repeat(64), 64L << 20)));
        PodLayers pod = PodLayers.of(List.of(fresh));
        List<String> both = List.of("edge-near", "edge-far");
        double fastSeconds = f.registryLink(registry.hostPort()).seconds(64L << 20);
        double slowSeconds = sl.registryLink(registry.hostPort()).seconds(64L << 20);
        assertNotEquals(fastSeconds, slowSeconds, "two measured links, two predictions");
        String faster = fastSeconds < slowSeconds ? "edge-near" : "edge-far";
        String slower = faster.equals("edge-near") ? "edge-far" : "edge-near";
        MutableClusterView measured = new MutableClusterView(); // the records the predictions came from (the view moves on)
        measured.put(f);
        measured.put(sl);
        Map<String, Double> predicted = new PredictedTimeScorer(DeploymentTimeModel.edgeDefaults()).score(pod, both, measured);
        assertTrue(predicted.get(faster) > predicted.get(slower), "predicted time prefers the faster measured link ("
                + faster + "): " + predicted);
        Map<String, Double> network = new NetworkPerformanceScorer().score(pod, both, measured);
        assertTrue(network.get(faster) > network.get(slower), "network performance prefers the faster measured link ("
                + faster + "): " + network);

        MutableClusterView unmeasured = new MutableClusterView();
        for (NodeStatus s : List.of(f, sl)) {
            unmeasured.put(new NodeStatus(s.nodeName(), s.layers(), s.capacityBytes(), s.freeBytes(), s.evictableBytes(), Map.of(), Map.of()));
        }
        Map<String, Double> defaults = new PredictedTimeScorer(DeploymentTimeModel.edgeDefaults()).score(pod, both, unmeasured);
        assertEquals(defaults.get("edge-near"), defaults.get("edge-far"), "on default links the two tie: " + defaults);
        System.out.printf("link-estimates-it: near_registry_Bps=%.0f near_rtt_ms=%.1f far_registry_Bps=%.0f far_rtt_ms=%.1f"
                        + " far_to_near_peer_Bps=%.0f peer_rtt_ms=%.1f predicted_score near=%.2f far=%.2f network near=%.2f far=%.2f%n",
                f.registries().get("*").bytesPerSecond(), f.registries().get("*").rttMillis(),
                sl.registries().get("*").bytesPerSecond(), sl.registries().get("*").rttMillis(),
                peerLink.bytesPerSecond(), peerLink.rttMillis(), predicted.get("edge-near"), predicted.get("edge-far"),
                network.get("edge-near"), network.get("edge-far"));
    }

    /**
     * A node that has transferred nothing publishes measured links all the same: its bandwidth probes
     * read a bounded range of a blob from the real registry and from a peer holding layers, and the
     * scheduler's view shows both links (the peer's by node name) while the node still holds no layer.
     */
    @Test
    void aNodeWithNoTransfersPublishesMeasuredLinksFromItsProbes() throws Exception {
        Corpus corpus = Corpus.small();
        Corpus.Image image = corpus.largest();
        RegistryFixture registry = add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        corpus.pushTo(registry.baseUri().toString());
        Node holder = add(publishingNode("edge-holder", registry.baseUri()));
        holder.pull(registry.hostPort(), image.name(), image.tag(), Platform.linuxAmd64());
        int probeBytes = BandwidthProbe.MIN_BYTES;
        Node fresh = add(Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve("edge-fresh"))
                .upstream(registry.baseUri()).noMirror().cacheCapacity(1L << 30)
                .service(new StatusPublisherService("edge-fresh", Duration.ofMillis(200), Clock.systemUTC(),
                        new BandwidthProbe(BandwidthProbe.MIN_INTERVAL, probeBytes)))
                .start());
        fresh.connect(holder.listenAddrs().get(0), Duration.ofSeconds(10));
        // the first probe round starts with the first record, so let the holder's announce arrive first
        io.layerswarm.oci.Digest layer = io.layerswarm.oci.Digest.parse(image.layers().get(0).digest());
        io.layerswarm.testing.Await.until(Duration.ofSeconds(60), "the holder's announce",
                () -> fresh.swarm().holders(layer).join() == 1);
        SwarmClusterView view = lightPeer(holder, fresh);

        NodeStatus s = await(view, "edge-fresh", r -> r.registries().containsKey("*") && r.peers().containsKey("edge-holder"),
                "edge-fresh's probed registry and peer links");
        assertTrue(s.layers().isEmpty(), "no transfer: the links come from the probes alone: " + s.layers());
        LinkEstimate up = s.registries().get(registry.hostPort());
        assertTrue(up.bytesPerSecond() > 0, "measured upstream rate: " + up);
        assertEquals(up, s.registries().get("*"), "the default upstream is the uplink");
        LinkEstimate peer = s.peers().get("edge-holder");
        assertTrue(peer.bytesPerSecond() > 0 && peer.rttMillis() >= 0, "measured peer link: " + peer);
        System.out.printf("probed-links-it: registry_Bps=%.0f registry_rtt_ms=%.1f peer_Bps=%.0f peer_rtt_ms=%.1f probe_bytes=%d%n",
                up.bytesPerSecond(), up.rttMillis(), peer.bytesPerSecond(), peer.rttMillis(), probeBytes);
    }

    private Node publishingNode(String name, URI upstream) throws Exception {
        return Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve(name))
                .upstream(upstream).noMirror().cacheCapacity(1L << 30)
                .service(new StatusPublisherService(name, Duration.ofMillis(200), Clock.systemUTC())).start();
    }

    /** The scheduler's light peer, connected to {@code nodes}, feeding a view. */
    private SwarmClusterView lightPeer(Node... nodes) throws Exception {
        SwarmClusterView view = new SwarmClusterView(new StatusRecordCodec(),
                new StatusRecordVerifier(Clock.systemUTC(), Duration.ofMinutes(5), Duration.ofSeconds(5)), Clock.systemUTC(), Map.of());
        Host scheduler = add(Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .ioThreads(1).build().start());
        Identify.attach(scheduler);
        NodeStatusProtocol.attach(scheduler, view);
        for (Node n : nodes) {
            scheduler.connect(n.listenAddrs().get(0)).get(10, TimeUnit.SECONDS);
        }
        return view;
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new StatusPublisherService(" "));
        assertThrows(IllegalArgumentException.class,
                () -> new StatusPublisherService("a", Duration.ZERO, Clock.systemUTC()));
        assertThrows(IllegalArgumentException.class, () -> new BandwidthProbe(Duration.ofSeconds(9), BandwidthProbe.MIN_BYTES));
        assertThrows(IllegalArgumentException.class, () -> new BandwidthProbe(Duration.ofDays(2), BandwidthProbe.MIN_BYTES));
        assertThrows(IllegalArgumentException.class, () -> new BandwidthProbe(Duration.ofMinutes(1), BandwidthProbe.MIN_BYTES - 1));
        assertThrows(IllegalArgumentException.class, () -> new BandwidthProbe(Duration.ofMinutes(1), BandwidthProbe.MAX_BYTES + 1));
        assertThrows(NullPointerException.class, () -> new BandwidthProbe(null, BandwidthProbe.MIN_BYTES));
        assertFalse(BandwidthProbe.OFF.enabled());
        assertTrue(BandwidthProbe.DEFAULT.enabled());
    }

    private static NodeStatus await(SwarmClusterView view, Predicate<NodeStatus> p, String what) throws InterruptedException {
        return await(view, "edge-a", p, what);
    }

    private static NodeStatus await(SwarmClusterView view, String node, Predicate<NodeStatus> p, String what)
            throws InterruptedException {
        return Await.until(Duration.ofSeconds(60), what, () -> view.node(node), s -> s.isPresent() && p.test(s.get())).get();
    }
}
