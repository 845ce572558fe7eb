package io.layerswarm.k8s.preheat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.orchestrator.Transfer;
import io.layerswarm.k8s.orchestrator.TransferPlan;
import io.layerswarm.k8s.orchestrator.TransferPlanner;
import io.layerswarm.k8s.scoring.ImageLayers;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.scoring.RegistryLayerResolver;
import io.layerswarm.k8s.scoring.SourceKind;
import io.layerswarm.k8s.status.NodeStatusProtocol;
import io.layerswarm.k8s.status.StatusRecordCodec;
import io.layerswarm.k8s.status.StatusRecordVerifier;
import io.layerswarm.k8s.status.SwarmClusterView;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.Node;
import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.NodeListener;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Preheat with real parts: a docker-registry, three in-process nodes that publish signed status records
 * and serve the preheat protocol, and an orchestrator that is a bare libp2p host with the cluster view,
 * the {@link TransferPlanner} and the {@link PreheatClient}. Node a pulls the image; c, which has not
 * joined anyone, is told to preheat it with every layer hinted to a. Afterwards c holds every blob, the
 * registry sent no further layer bytes, and a pull through c's mirror (the kubelet's path) takes nothing
 * from the registry either.
 */
class PreheatIT {
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    @TempDir
    Path tmp;
    private final Closer open = new Closer();
    private final ExecutorService io = Executors.newCachedThreadPool();

    @AfterEach
    void tearDown() throws Exception {
        open.close();
        io.shutdownNow();
    }

    private <T extends AutoCloseable> T add(T c) {
        return open.add(c);
    }

    private Node node(String name, RegistryFixture registry, Node bootstrap, boolean mirror, NodeListener listener)
            throws Exception {
        return add(PreheatNodes.builder(tmp.resolve(name), name, registry, bootstrap, mirror).listener(listener).start());
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES) // five processes' worth of work on a loaded 2-core machine
    void aPreheatedNodeHoldsTheImageBeforeThePullAndThePullTakesNothingFromTheRegistry() throws Exception {
        Corpus.Image image = Corpus.small().largest();
        RegistryFixture registry = add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        Corpus.small().pushTo(registry.baseUri().toString());
        List<NodeEvent.BlobFetched> fetchedByC = new CopyOnWriteArrayList<>();
        Node a = node("a", registry, null, false, new NodeListener() { });
        node("b", registry, a, false, new NodeListener() { });
        Node c = node("c", registry, null, true, new NodeListener() {
            @Override
            public void blobFetched(NodeEvent.BlobFetched e) {
                fetchedByC.add(e);
            }
        });

        // the orchestrator: a light peer that takes the nodes' status records into its view
        SwarmClusterView view = new SwarmClusterView(new StatusRecordCodec(),
                new StatusRecordVerifier(Clock.systemUTC(), Duration.ofMinutes(5), Duration.ofSeconds(5)),
                Clock.systemUTC(), Map.of());
        Host orchestrator = add(Host.builder(Ed25519PrivateKey.generate())
                .listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).ioThreads(1).build().start());
        Identify.attach(orchestrator);
        NodeStatusProtocol.attach(orchestrator, view);
        for (Node n : List.of(a, c)) {
            orchestrator.connect(n.listenAddrs().get(0)).get(30, TimeUnit.SECONDS);
        }

        a.pull(registry.hostPort(), image.name(), image.tag(), Platform.linuxAmd64());
        Map<String, Long> servedBefore = registry.blobBytesServed();
        Await.until(PATIENCE, "a's record lists the image's layers and c's record is in", () ->
                view.node("a").filter(s -> image.layers().stream().allMatch(l -> s.holds(l.digest()))).isPresent()
                        && view.node("c").isPresent());
        assertTrue(c.host().connection(a.peerId()).isEmpty(), "c has not met a yet");

        // plan: every layer c lacks comes from a, the only holder
        String ref = registry.hostPort() + "/" + image.name() + ":" + image.tag();
        RegistryLayerResolver resolver = new RegistryLayerResolver(h -> RegistryClient.builder(registry.baseUri()).build(),
                Platform.linuxAmd64(), io, Duration.ofMinutes(5), Clock.systemUTC());
        ImageLayers layers = resolver.resolve(ref).get(60, TimeUnit.SECONDS);
        PodLayers pod = PodLayers.of(List.of(layers));
        TransferPlan plan = new TransferPlanner(3, LinkEstimate.mbps(100, 2), LinkEstimate.mbps(20, 50))
                .plan(pod, List.of("c"), view);
        assertEquals(image.layers().size(), plan.transfers().size(), plan.toString());
        for (Transfer t : plan.transfers()) {
            assertEquals(SourceKind.PEER, t.kind(), t.toString());
            assertEquals("a", t.source(), t.toString());
        }

        PeerDirectory peers = name -> view.peerIdOf(name).map(PeerId::parse);
        PlanRequests requests = new PlanRequests(peers, orchestrator.peerStore()::addrs, Platform.linuxAmd64());
        List<PreheatRequest> sent = requests.forTarget(plan, "c", pod);
        assertEquals(1, sent.size());
        assertEquals(List.of(a.peerId()), sent.get(0).hintedPeers());
        assertFalse(sent.get(0).addressesOf(a.peerId()).isEmpty(), "the plan tells c where a is");

        Map<String, List<PreheatReply>> replies = new PreheatClient(orchestrator, io).execute(plan, pod, requests, peers)
                .get(5, TimeUnit.MINUTES);
        assertEquals(List.of("c"), List.copyOf(replies.keySet()));
        PreheatReply reply = replies.get("c").get(0);
        assertEquals(PreheatReply.Status.OK, reply.status(), reply.message());
        assertTrue(c.host().connection(a.peerId()).isPresent(), "c dialled the hinted peer");

        // c holds every blob before any pull, and the layers came from a, not from the registry
        long layerBytes = 0;
        for (Corpus.Layer l : image.layers()) {
            assertTrue(c.store().contains(Digest.parse(l.digest())), "c holds " + l.digest());
            BlobOutcome o = reply.blobs().stream().filter(b -> b.digest().equals(l.digest())).findFirst().orElseThrow();
            assertEquals(new BlobOutcome(l.digest(), l.size(), 0, false, null), o);
            layerBytes += l.size();
        }
        assertTrue(c.store().contains(Digest.parse(image.configDigest())), "c holds the config");
        Map<String, Long> servedAfterPreheat = registry.blobBytesServed();
        for (Corpus.Layer l : image.layers()) {
            assertEquals(servedBefore.get(l.digest()), servedAfterPreheat.get(l.digest()), "registry bytes of " + l.digest());
        }

        // the kubelet's pull through c's mirror finds everything local: no blob bytes from the registry
        int fetchesAfterPreheat = fetchedByC.size();
        PreheatNodes.pullThroughMirror(c, image);
        assertEquals(servedAfterPreheat, registry.blobBytesServed(), "the mirror pull sent no blob bytes from the registry");
        assertEquals(fetchesAfterPreheat, fetchedByC.size(), "c fetched nothing more");
        System.out.printf("preheat-it: image=%s layers=%d layer_bytes=%d peer_bytes=%d registry_bytes=%d elapsed_ms=%d%n",
                image.ref(), image.layers().size(), layerBytes, reply.peerBytes(), reply.registryBytes(),
                reply.elapsedMillis());
    }
}
