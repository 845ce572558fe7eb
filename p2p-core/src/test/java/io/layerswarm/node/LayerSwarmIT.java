package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.swarm.DownloadResult;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.RegistryFixture;
import io.layerswarm.transfer.RegistryPieceSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
    private static final Duration AWAIT = Duration.ofSeconds(30);

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
        return cluster.node(name, TestCluster.patient(SwarmConfig.defaults().withPieceSize(256 * 1024)));
    }

    /** {@code n} nodes named {@code prefix0...}, connected to each other. */
    List<TestCluster.Node> connectedNodes(String prefix, int n) throws Exception {
        List<TestCluster.Node> nodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            nodes.add(node(prefix + i));
        }
        connectAll(nodes);
        return nodes;
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
        var stats = Await.until(AWAIT, "c has measured the RTT to a and b", () -> await(c.swarm().peerStats()),
                m -> m.values().stream().filter(st -> !Double.isNaN(st.rttMillis())).count() == 2);
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
        // completion announcements are pushed asynchronously
        Await.until(AWAIT, "a hears that b and c hold the blob", () -> await(a.swarm().holders(d)), n -> n >= 2);
        assertEquals(2, (int) a.swarm().holders(d).get(5, TimeUnit.SECONDS));
    }

    /**
     * A node that knows (or, through its claim, learns) of a complete holder takes nothing from the
     * registry, for a multi-piece blob (whose piece hashes it must first ask the holder for) and a
     * one-piece blob (whose only piece hash is the digest).
     */
    @Test
    void aConnectedHolderIsUsedAndTheRegistryIsNotAsked() throws Exception {
        byte[] big = realBlob();
        byte[] small = java.util.Arrays.copyOf(big, 1000);
        TestCluster.Node a = node("a");
        a.store().put(big);
        a.store().put(small);
        try (RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            RegistryClient client = RegistryClient.builder(registry.baseUri()).build();
            for (byte[] blob : List.of(big, small)) {
                client.pushBlob("edge/app", Digest.sha256(blob), blob);
            }
            long pushed = registry.totalBlobBytesServed();
            for (boolean announced : List.of(true, false)) {
                TestCluster.Node b = node("b" + announced);
                connectAll(List.of(a, b));
                if (announced) {
                    Await.until(AWAIT, "b hears what a holds",
                            () -> await(b.swarm().holders(Digest.sha256(big))) == 1
                                    && await(b.swarm().holders(Digest.sha256(small))) == 1);
                }
                for (byte[] blob : List.of(big, small)) {
                    Digest d = Digest.sha256(blob);
                    DownloadResult r = b.swarm().fetch(d, blob.length,
                            new RegistryPieceSource(client, "edge/app", d, cluster.pool)).get(60, TimeUnit.SECONDS);
                    assertEquals(0, r.originBytes(), "announced=" + announced + " size=" + blob.length);
                    assertEquals(blob.length, r.peerBytes());
                    assertArrayEquals(blob, Files.readAllBytes(b.store().path(d)));
                }
            }
            assertEquals(pushed, registry.totalBlobBytesServed(), "the registry sent no blob bytes");
        }
    }

    /**
     * Two peers that dialled each other at once keep one connection and close the other; that close is
     * not the peer leaving, so what it announced must stay known (the CI failure: a node forgot the
     * holder and took its share from the registry).
     */
    @Test
    void aClosingDuplicateConnectionKeepsWhatThePeerHolds() throws Exception {
        byte[] blob = java.util.Arrays.copyOf(realBlob(), 1000);
        Digest d = Digest.sha256(blob);
        TestCluster.Node a = node("a");
        TestCluster.Node b = node("b");
        a.store().put(blob);
        java.util.concurrent.atomic.AtomicInteger closed = new java.util.concurrent.atomic.AtomicInteger();
        b.host().addConnectionListener(new io.layerswarm.libp2p.host.ConnectionListener() {
            @Override
            public void disconnected(io.layerswarm.libp2p.host.Connection c) {
                closed.incrementAndGet();
            }
        });
        connectAll(List.of(b, a));
        Await.until(AWAIT, "b hears what a holds", () -> await(b.swarm().holders(d)) == 1);
        // a dials b's address without its peer id, so the existing connection is not reused: a duplicate
        a.host().connect(b.host().listenAddrs().get(0)).get(10, TimeUnit.SECONDS);
        Await.until(AWAIT, "b closed one of the two connections", closed::get, n -> n >= 1);
        assertTrue(b.host().connection(a.host().peerId()).isPresent(), "the other connection stays");
        // the swarm's own listener ran before ours, so its disconnect is already queued before this call
        assertEquals(1, (int) b.swarm().holders(d).get(5, TimeUnit.SECONDS), "b still knows a holds the blob");
        DownloadResult r = b.swarm().fetch(d, blob.length, null).get(60, TimeUnit.SECONDS);
        assertEquals(blob.length, r.peerBytes());
    }

    /**
     * A claim whose stream dies while the peer stays connected is sent again, not taken as "that peer
     * has nothing": here the peer holds the blob and answers only the second claim, and it answers
     * "have" queries only after that, so without the resend the node would go to the registry.
     */
    @Test
    void aClaimWhoseStreamDiesIsSentAgainWhileThePeerStaysConnected() throws Exception {
        byte[] blob = java.util.Arrays.copyOf(realBlob(), 1000);
        Digest d = Digest.sha256(blob);
        TestCluster.Node a = node("a");
        io.layerswarm.libp2p.host.Host b = cluster.add(io.layerswarm.libp2p.host.Host
                .builder(io.layerswarm.libp2p.crypto.Ed25519PrivateKey.generate())
                .listen(io.layerswarm.libp2p.multiformats.Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).build().start());
        java.util.concurrent.atomic.AtomicInteger claims = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch answered = new java.util.concurrent.CountDownLatch(1);
        b.setBlockingHandler(LayerSwarm.ANNOUNCE_PROTOCOL, stream -> {
            var claim = io.layerswarm.transfer.Frames.read(stream.inputStream(),
                    io.layerswarm.swarm.pb.LayerExchangeProtos.Announce.parser(), 1 << 20);
            if (!claim.getAckRequested() || claims.incrementAndGet() == 1) {
                return; // the first claim's stream ends unanswered
            }
            io.layerswarm.transfer.Frames.write(stream.outputStream(), io.layerswarm.swarm.pb.LayerExchangeProtos
                    .Announce.newBuilder().setDigest(d.toString()).setSize(blob.length).setComplete(true)
                    .setSeq(claims.get()).build());
            stream.outputStream().flush();
            answered.countDown();
        });
        io.layerswarm.transfer.LayerExchangeServer server = new io.layerswarm.transfer.LayerExchangeServer(
                new io.layerswarm.transfer.LocalBlobs() {
                    @Override
                    public java.util.OptionalLong size(Digest digest) {
                        if (!digest.equals(d)) {
                            return java.util.OptionalLong.empty();
                        }
                        try {
                            // "have" is answered only once the resent claim was: it cannot stand in for it
                            answered.await(60, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return java.util.OptionalLong.of(blob.length);
                    }

                    @Override
                    public java.util.Optional<io.layerswarm.swarm.Bitfield> pieces(Digest digest,
                                                                                 io.layerswarm.swarm.PieceLayout l) {
                        return java.util.Optional.of(io.layerswarm.swarm.Bitfield.full(l.count()));
                    }

                    @Override
                    public java.util.Optional<io.layerswarm.swarm.PieceHashes> hashes(Digest digest,
                                                                                     io.layerswarm.swarm.PieceLayout l) {
                        return java.util.Optional.empty();
                    }

                    @Override
                    public java.io.InputStream open(Digest digest, long offset, int length) {
                        return new java.io.ByteArrayInputStream(blob, (int) offset, length);
                    }
                }, 3, Duration.ofSeconds(2));
        b.setBlockingHandler(io.layerswarm.transfer.LayerExchangeServer.PROTOCOL,
                stream -> server.serve(stream.inputStream(), stream.outputStream()));
        a.host().connect(b.listenAddrs().get(0).encapsulate(io.layerswarm.libp2p.multiformats.Multiaddr
                .parse("/p2p/" + b.peerId().toBase58()))).get(10, TimeUnit.SECONDS);
        try (RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            RegistryClient client = RegistryClient.builder(registry.baseUri()).build();
            client.pushBlob("edge/app", d, blob);
            DownloadResult r = a.swarm().fetch(d, blob.length,
                    new RegistryPieceSource(client, "edge/app", d, cluster.pool)).get(60, TimeUnit.SECONDS);
            assertEquals(2, claims.get(), "the claim went out twice");
            assertEquals(0, r.originBytes(), "the holder's answer to the resent claim kept the registry out");
            assertEquals(blob.length, r.peerBytes());
            assertArrayEquals(blob, Files.readAllBytes(a.store().path(d)));
        }
    }

    /**
     * The CI race behind PullThroughMirrorIT's 1.23x: a node that joins a download late sees pieces the
     * earlier fetcher has verified before it learns their hashes (those travel in the earlier fetcher's
     * own announces, sent before the two were connected or still on their way), so to it they look like
     * nobody's and the registry is asked for them again. Here {@code a} has verified every piece but the
     * last (its registry holds that one back) before {@code b} connects: {@code b} gets the hashes with
     * {@code a}'s state, takes every piece from {@code a} and nothing from its registry.
     */
    @Test
    void aLateFetcherTakesWhatAnEarlierOneVerifiedFromItNotFromTheRegistry() throws Exception {
        byte[] blob = realBlob();
        Digest d = Digest.sha256(blob);
        // a's held request must not time out (three timeouts would ban a's registry)
        TestCluster.Node a = cluster.node("a", TestCluster.patient(SwarmConfig.defaults().withPieceSize(256 * 1024)
                .withDownload(io.layerswarm.swarm.DownloadConfig.defaults().withMinRequestTimeout(Duration.ofMinutes(5)))));
        TestCluster.Node b = node("b");
        int pieces = a.swarm().layoutFor(blob.length).count();
        MemoryOrigin originA = new MemoryOrigin("registry:a", blob, a.swarm().layoutFor(blob.length).offset(pieces - 1));
        MemoryOrigin originB = new MemoryOrigin("registry:b", blob, Long.MAX_VALUE);
        java.util.concurrent.atomic.AtomicInteger verifiedA = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger verifiedB = new java.util.concurrent.atomic.AtomicInteger();
        a.swarm().addListener(counting(verifiedA));
        b.swarm().addListener(counting(verifiedB));
        CompletableFuture<DownloadResult> ra = a.swarm().fetch(d, blob.length, originA);
        Await.until(AWAIT, "a verified all pieces but the last", verifiedA::get, n -> n == pieces - 1);
        connectAll(List.of(a, b));
        // the dialler's side completes first; a b that fetched before it had the connection would rightly
        // go to the registry at once (no peer to claim to)
        Await.until(AWAIT, "b holds the connection to a", () -> b.host().connection(a.host().peerId()).isPresent());
        CompletableFuture<DownloadResult> rb = b.swarm().fetch(d, blob.length, originB);
        Await.until(AWAIT, "b has every piece a holds, or asked its registry",
                () -> verifiedB.get() == pieces - 1 || originB.requests.get() > 0);
        assertEquals(0, originB.requests.get(), "b asked its registry for pieces a had verified");
        originA.release();
        DownloadResult resultB = rb.get(60, TimeUnit.SECONDS);
        ra.get(60, TimeUnit.SECONDS);
        assertEquals(0, resultB.originBytes(), "b took a's last piece from a once a had it");
        assertArrayEquals(blob, Files.readAllBytes(b.store().path(d)));
    }

    private static SwarmListener counting(java.util.concurrent.atomic.AtomicInteger pieces) {
        return new SwarmListener() {
            @Override
            public void pieceAccepted(Digest blob, String source, boolean fromOrigin, int bytes) {
                pieces.incrementAndGet();
            }
        };
    }

    /** A registry stand-in serving a blob from memory at once, except the bytes from {@code heldFrom} until released. */
    private static final class MemoryOrigin implements io.layerswarm.swarm.PieceSource {
        final java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        private final String id;
        private final byte[] blob;
        private final long heldFrom;
        private final CompletableFuture<Void> released = new CompletableFuture<>();

        MemoryOrigin(String id, byte[] blob, long heldFrom) {
            this.id = id;
            this.blob = blob;
            this.heldFrom = heldFrom;
        }

        void release() {
            released.complete(null);
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public boolean isOrigin() {
            return true;
        }

        @Override
        public CompletableFuture<java.nio.ByteBuffer> fetch(long offset, int length) {
            requests.incrementAndGet();
            java.nio.ByteBuffer piece = java.nio.ByteBuffer.wrap(blob, (int) offset, length).slice();
            return offset < heldFrom ? CompletableFuture.completedFuture(piece) : released.thenApply(v -> piece);
        }
    }

    /**
     * Every node fetches a real blob at once, the real docker-registry as origin; checks every copy.
     *
     * @return blob bytes the registry served and origin bytes the nodes used
     */
    long[] fetchAllAtOnce(List<TestCluster.Node> nodes, byte[] blob) throws Exception {
        Digest d = Digest.sha256(blob);
        try (RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            RegistryClient client = RegistryClient.builder(registry.baseUri()).build();
            client.pushBlob("edge/app", d, blob);
            // All four start at once: the fetch queries, not the timing, decide which node asks the registry.
            List<CompletableFuture<DownloadResult>> all = new ArrayList<>();
            for (TestCluster.Node n : nodes) {
                all.add(n.swarm().fetch(d, blob.length, new RegistryPieceSource(client, "edge/app", d, cluster.pool)));
            }
            long origin = 0;
            for (int i = 0; i < nodes.size(); i++) {
                origin += all.get(i).get(120, TimeUnit.SECONDS).originBytes();
                assertArrayEquals(blob, Files.readAllBytes(nodes.get(i).store().path(d)));
            }
            return new long[] {registry.blobBytesServed(d.toString()), origin};
        }
    }

    @Test
    void fourNodesPullingAtOnceGetEachRegistryByteAboutOnce() throws Exception {
        byte[] blob = realBlob();
        List<TestCluster.Node> nodes = connectedNodes("n", 4);
        long[] bytes = fetchAllAtOnce(nodes, blob);
        // requests cancelled in endgame still cost the registry bytes the nodes never use
        assertTrue(bytes[0] >= bytes[1], "registry log " + bytes[0] + " < bytes the nodes used " + bytes[1]);
        assertTrue(bytes[0] <= blob.length * 1.05, "registry sent " + bytes[0] + " bytes for a " + blob.length
                + "-byte blob fanned out to 4 nodes");
    }

    /**
     * Announces and claims travel on one stream per peer: a fan-out of a blob of many pieces (each
     * verified piece announced, each fetch claimed) opens a handful of announce streams per peer, not
     * one per message.
     */
    @Test
    void announcesAndClaimsOpenOneStreamPerPeerNotOnePerPiece() throws Exception {
        byte[] blob = realBlob();
        List<TestCluster.Node> nodes = connectedNodes("s", 3);
        int pieces = nodes.get(0).swarm().layoutFor(blob.length).count();
        assertTrue(pieces >= 32, "a blob of " + pieces + " pieces");
        long served = fetchAllAtOnce(nodes, blob)[0];
        assertTrue(served <= blob.length * 1.05, "registry sent " + served + " bytes for " + blob.length);
        for (TestCluster.Node from : nodes) {
            for (TestCluster.Node to : nodes) {
                if (from != to) {
                    int streams = await(from.swarm().announceStreamsOpened(to.host().peerId()));
                    // the link, and at most its one reopen
                    assertTrue(streams >= 1 && streams <= AnnounceLink.MAX_REOPENS + 1, streams
                            + " announce streams opened for " + pieces + " pieces");
                }
            }
        }
    }

    @Test
    void claimsAreAnsweredSoNoFetchWaitsForTheClaimTimeout() throws Exception {
        byte[] blob = realBlob();
        // a claim wait far beyond the fetch deadline: the fetches finish only if every claim is answered
        SwarmConfig config = SwarmConfig.defaults().withPieceSize(256 * 1024).withClaimWait(java.time.Duration.ofHours(1));
        List<TestCluster.Node> nodes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            nodes.add(cluster.node("c" + i, config));
        }
        connectAll(nodes);
        long served = fetchAllAtOnce(nodes, blob)[0];
        assertTrue(served <= blob.length * 1.05, "registry sent " + served + " bytes for " + blob.length);
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
            awaitHandled(stream);
        }
        // each handler has returned, so whatever it posted to the node's loop is queued before this query
        assertEquals(0, (int) node.swarm().holders(d).get(5, TimeUnit.SECONDS), "no malformed announce counted as a holder");
        // garbage neither stalled nor poisoned the node: a valid announce of a complete copy still counts
        var stream = sender.newStream(node.host().peerId(), List.of(LayerSwarm.ANNOUNCE_PROTOCOL)).get(10, TimeUnit.SECONDS);
        valid.toBuilder().setComplete(true).build().writeDelimitedTo(stream.outputStream());
        stream.outputStream().flush();
        stream.closeWrite();
        awaitHandled(stream);
        assertEquals(1, (int) node.swarm().holders(d).get(5, TimeUnit.SECONDS));
    }

    /**
     * Returns once the node's handler for {@code stream} has finished: the host then closes (EOF) or
     * resets (IOException) its side.
     */
    private static void awaitHandled(io.layerswarm.libp2p.host.P2pStream stream) throws Exception {
        CompletableFuture.runAsync(() -> {
            try {
                while (stream.inputStream().read() >= 0) {
                    // the announce protocol has no answer; skip anything
                }
            } catch (java.io.IOException reset) {
                // refused: the handler threw
            }
        }).get(AWAIT.toSeconds(), TimeUnit.SECONDS);
    }

    static <T> T await(CompletableFuture<T> f) {
        return f.orTimeout(AWAIT.toSeconds(), TimeUnit.SECONDS).join();
    }
}
