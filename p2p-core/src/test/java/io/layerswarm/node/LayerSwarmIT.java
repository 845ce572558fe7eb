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

/** Swarm nodes on real libp2p hosts (TLS + Yamux over loopback TCP), the real docker-registry as origin. */
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

    @Test
    void garbageAnnouncementsAreRefusedAndLeaveNoTrace() throws Exception {
        TestCluster.Node node = node("target");
        io.layerswarm.libp2p.host.Host sender = cluster.add(io.layerswarm.libp2p.host.Host.builder(
                io.layerswarm.libp2p.crypto.Ed25519PrivateKey.generate())
                .listen(io.layerswarm.libp2p.multiformats.Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).build().start());
        TestCluster.connectAll(List.of(sender, node.host()));
        Digest d = Digest.sha256(realBlob());
        io.layerswarm.swarm.pb.LayerExchangeProtos.Announce valid = io.layerswarm.swarm.pb.LayerExchangeProtos.Announce
                .newBuilder().setDigest(d.toString()).setSize(1 << 20).setPieceSize(256 * 1024).setSeq(100).build();
        java.util.Random r = new java.util.Random(5);
        List<byte[]> junk = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            byte[] b = new byte[r.nextInt(200)];
            r.nextBytes(b);
            junk.add(b);
        }
        // well-formed frames with bad contents
        for (var bad : List.of(valid.toBuilder().setDigest("md5:00").setComplete(true).build(),
                valid.toBuilder().setBitfield(com.google.protobuf.ByteString.copyFrom(new byte[7])).build(),
                valid.toBuilder().addHashes(io.layerswarm.swarm.pb.LayerExchangeProtos.PieceHash.newBuilder()
                        .setIndex(4).setSha256(com.google.protobuf.ByteString.copyFrom(new byte[32]))).build(),
                valid.toBuilder().addHashes(io.layerswarm.swarm.pb.LayerExchangeProtos.PieceHash.newBuilder()
                        .setIndex(0).setSha256(com.google.protobuf.ByteString.copyFrom(new byte[3]))).build(),
                valid.toBuilder().setPieceSize(1).build())) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            bad.writeDelimitedTo(out);
            junk.add(out.toByteArray());
        }
        for (byte[] b : junk) {
            var stream = sender.newStream(node.host().peerId(), List.of(LayerSwarm.ANNOUNCE_PROTOCOL)).get(10, TimeUnit.SECONDS);
            stream.outputStream().write(b);
            stream.outputStream().flush();
            stream.closeWrite();
        }
        Thread.sleep(500);
        assertEquals(0, (int) node.swarm().holders(d).get(5, TimeUnit.SECONDS), "no malformed announce counted as a holder");
        // garbage neither stalled nor poisoned the node: a valid announce of a complete copy still counts
        var stream = sender.newStream(node.host().peerId(), List.of(LayerSwarm.ANNOUNCE_PROTOCOL)).get(10, TimeUnit.SECONDS);
        valid.toBuilder().setComplete(true).build().writeDelimitedTo(stream.outputStream());
        stream.outputStream().flush();
        stream.closeWrite();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (node.swarm().holders(d).get(5, TimeUnit.SECONDS) == 0 && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertEquals(1, (int) node.swarm().holders(d).get(5, TimeUnit.SECONDS));
    }
}
