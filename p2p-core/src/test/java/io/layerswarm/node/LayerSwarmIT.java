package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.swarm.DownloadResult;
import io.layerswarm.testing.RegistryFixture;
import io.layerswarm.transfer.RegistryPieceSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Swarm nodes on real libp2p hosts (Noise + Yamux over loopback TCP), the real docker-registry as origin. */
class LayerSwarmIT {
    @TempDir
    Path tmp;
    TestCluster cluster;

    @BeforeEach
    void setUp() {
        cluster = new TestCluster(tmp);
    }

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    TestCluster.Node node(String name) throws Exception {
        return cluster.node(name, SwarmConfig.defaults().withPieceSize(256 * 1024));
    }

    static void connectAll(List<TestCluster.Node> nodes) throws Exception {
        TestCluster.connectAll(nodes.stream().map(TestCluster.Node::host).toList());
    }

    /** A real, multi-megabyte blob: the JDK's own module image would be too big; libjvm is about right. */
    static byte[] realBlob() throws Exception {
        Path jvm = Path.of(System.getProperty("java.home"), "lib", "server", "libjvm.so");
        return Files.readAllBytes(jvm);
    }

    @Test
    void aNodeFetchesFromPeersThatHoldTheBlobWithoutTheRegistry() throws Exception {
        byte[] blob = realBlob();
        Digest d = Digest.sha256(blob);
        TestCluster.Node a = node("a");
        TestCluster.Node b = node("b");
        TestCluster.Node c = node("c");
        a.store().put(blob);
        connectAll(List.of(a, b, c));
        // every connection is pinged at once; the RTTs feed peer selection
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < until && !c.swarm().peerStats().get(5, TimeUnit.SECONDS).values().stream()
                .filter(st -> !Double.isNaN(st.rttMillis())).map(st -> 1).reduce(0, Integer::sum).equals(2)) {
            Thread.sleep(20);
        }
        var stats = c.swarm().peerStats().get(5, TimeUnit.SECONDS);
        for (TestCluster.Node peer : List.of(a, b)) {
            double rtt = stats.get(peer.host().peerId().toBase58()).rttMillis();
            assertTrue(rtt > 0 && rtt < 5000, "ping RTT to " + peer.host().peerId() + ": " + rtt);
        }
        DownloadResult rb = b.swarm().fetch(d, blob.length, null).get(60, TimeUnit.SECONDS);
        assertEquals(blob.length, rb.peerBytes());
        DownloadResult rc = c.swarm().fetch(d, blob.length, null).get(60, TimeUnit.SECONDS);
        assertEquals(blob.length, rc.peerBytes());
        assertEquals(2, rc.bytesBySource().size(), "c used both a and b: " + rc.bytesBySource());
        assertArrayEquals(blob, Files.readAllBytes(c.store().path(d)));
        // completion announcements are pushed asynchronously; they arrive within a round trip
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (a.swarm().holders(d).get(5, TimeUnit.SECONDS) < 2 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(2, (int) a.swarm().holders(d).get(5, TimeUnit.SECONDS));
    }

    @Test
    void fourNodesPullingAtOnceGetEachRegistryByteAboutOnce() throws Exception {
        byte[] blob = realBlob();
        Digest d = Digest.sha256(blob);
        List<TestCluster.Node> nodes = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            nodes.add(node("n" + i));
        }
        connectAll(nodes);
        try (RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            RegistryClient client = RegistryClient.builder(registry.baseUri()).build();
            client.pushBlob("edge/app", d, blob);
            List<CompletableFuture<DownloadResult>> all = new ArrayList<>();
            for (TestCluster.Node n : nodes) {
                all.add(n.swarm().fetch(d, blob.length, new RegistryPieceSource(client, "edge/app", d, cluster.pool)));
            }
            long origin = 0;
            for (int i = 0; i < nodes.size(); i++) {
                DownloadResult r = all.get(i).get(120, TimeUnit.SECONDS);
                origin += r.originBytes();
                assertArrayEquals(blob, Files.readAllBytes(nodes.get(i).store().path(d)));
            }
            long served = registry.blobBytesServed(d.toString());
            // requests cancelled in endgame still cost the registry bytes the nodes never use
            assertTrue(served >= origin, "registry log " + served + " < bytes the nodes used " + origin);
            assertTrue(served <= blob.length * 1.05, "registry sent " + served + " bytes for a " + blob.length
                    + "-byte blob fanned out to 4 nodes");
        }
    }

    @Test
    void aPeerServingCorruptPiecesIsBannedAndTheFetchCompletes() throws Exception {
        byte[] blob = realBlob();
        Digest d = Digest.sha256(blob);
        TestCluster.Node honest = node("honest");
        TestCluster.Node liar = node("liar");
        TestCluster.Node me = node("me");
        honest.store().put(blob);
        liar.store().put(blob);
        liar.store().corruptReads = true;
        connectAll(List.of(honest, liar, me));
        DownloadResult r = me.swarm().fetch(d, blob.length, null).get(60, TimeUnit.SECONDS);
        assertArrayEquals(blob, Files.readAllBytes(me.store().path(d)));
        assertEquals(blob.length, r.bytesBySource().get(honest.host().peerId().toBase58()));
    }
}
