package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.pb.LayerExchangeProtos.Announce;
import io.layerswarm.testing.Await;
import io.layerswarm.transfer.Frames;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link AnnounceLink} between two real hosts on loopback; the far side is a scripted handler. */
class AnnounceLinkTest {
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private static final Digest BLOB = Digest.sha256("blob".getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path tmp;
    TestCluster cluster;
    Host a;
    Host b;
    final ExecutorService io = Executors.newCachedThreadPool();
    final RecordingOwner owner = new RecordingOwner();
    /** Each stream the far side accepted, with the frames read from it in order. */
    final List<List<Announce>> received = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        cluster = new TestCluster(tmp);
        a = host();
        b = host();
        TestCluster.connectAll(List.of(a, b));
        owner.host = a;
        owner.peer = b;
    }

    @AfterEach
    void tearDown() throws Exception {
        io.shutdownNow();
        cluster.close();
    }

    private Host host() throws Exception {
        return cluster.add(Host.builder(Ed25519PrivateKey.generate())
                .listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).build().start());
    }

    private AnnounceLink link() {
        return new AnnounceLink(b.peerId().toBase58(), owner, io);
    }

    static Announce announce(long seq) {
        return Announce.newBuilder().setDigest(BLOB.toString()).setSize(1000).setComplete(true).setSeq(seq).build();
    }

    static Announce claim(long seq) {
        return Announce.newBuilder().setDigest(BLOB.toString()).setSize(1000).setPieceSize(256 * 1024)
                .setBitfield(com.google.protobuf.ByteString.copyFrom(new byte[1]))
                .setFetching(true).setAckRequested(true).setSeq(seq).build();
    }

    /** The far side: reads frames to the end of each stream; {@code answer} decides what a claim gets. */
    interface ClaimAnswer {
        /** Answers {@code claim}, the {@code n}th claim overall (from 1), on {@code s}; false ends the stream unanswered. */
        boolean answer(P2pStream s, Announce claim, int n) throws IOException;
    }

    private void serveLinks(ClaimAnswer answer) {
        AtomicInteger claims = new AtomicInteger();
        b.setBlockingHandler(AnnounceLink.PROTOCOL, s -> {
            List<Announce> frames = new CopyOnWriteArrayList<>();
            received.add(frames);
            while (true) {
                Announce m;
                try {
                    m = Frames.read(s.inputStream(), Announce.parser(), LayerSwarm.MAX_ANNOUNCE);
                } catch (EOFException end) {
                    return;
                }
                frames.add(m);
                if (m.getAckRequested() && !answer.answer(s, m, claims.incrementAndGet())) {
                    s.reset();
                    return;
                }
            }
        });
    }

    static boolean answerHolding(P2pStream s, Announce claim, int n) throws IOException {
        Frames.write(s.outputStream(), Announce.newBuilder().setDigest(claim.getDigest()).setSize(1000)
                .setComplete(true).setSeq(n).build());
        s.outputStream().flush();
        return true;
    }

    @Test
    void framesGoOutInOrderOnOneStreamAndClaimsAreAnswered() throws Exception {
        serveLinks(AnnounceLinkTest::answerHolding);
        AnnounceLink link = link();
        for (int i = 1; i <= 100; i++) {
            if (i % 10 == 0) {
                link.claim(claim(i));
            } else {
                link.send(announce(i));
            }
        }
        Await.until(AWAIT, "100 frames received", () -> received.size() == 1 && received.get(0).size() == 100);
        Await.until(AWAIT, "10 claims answered", () -> owner.answered.size() == 10);
        List<Long> seqs = received.get(0).stream().map(Announce::getSeq).toList();
        List<Long> expected = new ArrayList<>();
        for (long i = 1; i <= 100; i++) {
            expected.add(i);
        }
        assertEquals(expected, seqs, "in the order sent");
        assertEquals(1, link.streamsOpened());
        assertEquals(List.of(), owner.perMessage);
        assertFalse(link.isPerMessage());
        Thread reader = link.reader();
        link.close();
        reader.join(AWAIT.toMillis());
        assertFalse(reader.isAlive(), "the reader thread ends with the link");
    }

    @Test
    void aPeerWithoutTheLinkGetsEveryMessageOnAStreamOfItsOwn() throws Exception {
        b.setBlockingHandler(LayerSwarm.ANNOUNCE_PROTOCOL, s -> { });
        AnnounceLink link = link();
        link.send(announce(1));
        link.claim(claim(2));
        link.send(announce(3));
        Await.until(AWAIT, "all three handed back", () -> owner.perMessage.size() == 3);
        assertEquals(List.of(1L, 2L, 3L), owner.perMessage.stream().map(Announce::getSeq).toList());
        assertTrue(link.isPerMessage());
        assertEquals(1, link.streamsOpened(), "negotiated once, then never tried again");
        link.send(announce(4));
        Await.until(AWAIT, "later ones handed back at once", () -> owner.perMessage.size() == 4);
        assertEquals(1, link.streamsOpened());
    }

    @Test
    void aStreamThatDiesIsReopenedOnceAndTheUnansweredClaimSentAgain() throws Exception {
        // the first claim's stream is reset unanswered; on the reopened stream the claim is answered
        serveLinks((s, claim, n) -> n > 1 && answerHolding(s, claim, n));
        AnnounceLink link = link();
        link.send(announce(1));
        link.claim(claim(2));
        Await.until(AWAIT, "the claim answered", () -> owner.answered.size() == 1);
        assertEquals(2, link.streamsOpened());
        assertEquals(1, owner.reopened.get(), "the owner is told to send its state again");
        assertEquals(List.of(2L), received.get(1).stream().filter(Announce::getAckRequested)
                .map(Announce::getSeq).toList(), "the claim went out again, first on the new stream");
        assertFalse(link.isPerMessage());
        link.send(announce(3));
        Await.until(AWAIT, "later announces on the reopened stream", () -> received.get(1).stream()
                .anyMatch(m -> m.getSeq() == 3));
        assertEquals(List.of(), owner.perMessage);
    }

    @Test
    void aLinkThatDiesAgainHandsItsMessagesToTheOneStreamEachPath() throws Exception {
        serveLinks((s, claim, n) -> false); // every claim's stream dies
        AnnounceLink link = link();
        link.claim(claim(1));
        Await.until(AWAIT, "the claim handed over after the reopen failed too", () -> owner.perMessage.size() == 1);
        assertEquals(1L, owner.perMessage.get(0).getSeq());
        assertEquals(2, link.streamsOpened(), "one reopen, no more");
        assertTrue(link.isPerMessage());
        assertEquals(List.of(), owner.answered);
    }

    @Test
    void aGarbageAnswerResetsTheLinkAndNothingElseIsLost() throws Exception {
        serveLinks((s, claim, n) -> {
            if (n == 1) {
                s.outputStream().write(new byte[] {5, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
                s.outputStream().flush();
                return true;
            }
            return answerHolding(s, claim, n);
        });
        AnnounceLink link = link();
        // announces written to the reset stream may be lost unread: the state is sent again on the new one
        owner.onReopen = () -> {
            for (int i = 2; i <= 20; i++) {
                link.send(announce(i));
            }
        };
        link.claim(claim(1));
        for (int i = 2; i <= 20; i++) {
            link.send(announce(i));
        }
        Await.until(AWAIT, "the claim answered on the reopened stream", () -> owner.answered.size() == 1);
        Await.until(AWAIT, "the announces after the garbage arrived", () -> received.stream().flatMap(List::stream)
                .map(Announce::getSeq).distinct().count() == 20);
        assertEquals(2, link.streamsOpened());
        assertEquals(1, owner.reopened.get());
        assertEquals(List.of(), owner.perMessage);
    }

    @Test
    void closingHandsOverWhatIsUnansweredSoTheClaimRoundEnds() throws Exception {
        serveLinks((s, claim, n) -> true); // takes claims and never answers
        AnnounceLink link = link();
        link.claim(claim(1));
        Await.until(AWAIT, "the claim is on the wire", () -> !received.isEmpty() && received.get(0).size() == 1);
        Thread reader = link.reader();
        link.close();
        assertEquals(List.of(1L), owner.perMessage.stream().map(Announce::getSeq).toList());
        reader.join(AWAIT.toMillis());
        assertFalse(reader.isAlive());
        link.send(announce(2));
        assertEquals(2, owner.perMessage.size(), "a closed link carries nothing");
    }

    /** A link whose claim stays unanswered past its deadline is reset and the claim sent again. */
    @Test
    void anExpiredClaimResetsTheLink() throws Exception {
        serveLinks((s, claim, n) -> n == 1 || answerHolding(s, claim, n)); // the first is swallowed
        AnnounceLink link = link();
        Announce c = claim(1);
        link.claim(c);
        Await.until(AWAIT, "the claim is on the wire", () -> !received.isEmpty() && received.get(0).size() == 1);
        link.expire(c);
        Await.until(AWAIT, "answered on the reopened stream", () -> owner.answered.size() == 1);
        assertEquals(2, link.streamsOpened());
    }

    /**
     * Both peers dialled each other: the newer connection won, and the host closes the losing one only
     * once it carries no stream. The link moves to the winner (without using up its reopen), so the
     * loser closes.
     */
    @Test
    void aLinkMovesOffAConnectionThatLostToADuplicateSoItCloses() throws Exception {
        Host x = host();
        Host y = host();
        // the connection dialled by the smaller peer id wins: the larger dials first, the smaller second
        Host small = x.peerId().compareTo(y.peerId()) < 0 ? x : y;
        Host large = small == x ? y : x;
        b = small;
        serveLinks(AnnounceLinkTest::answerHolding);
        owner.host = large;
        owner.peer = small;
        TestCluster.connectAll(List.of(large, small));
        AnnounceLink link = new AnnounceLink(small.peerId().toBase58(), owner, io);
        link.claim(claim(1));
        Await.until(AWAIT, "the claim answered", () -> owner.answered.size() == 1);
        var first = large.connection(small.peerId()).orElseThrow();
        small.connect(large.listenAddrs().get(0)).get(10, TimeUnit.SECONDS);
        var kept = Await.until(AWAIT, "the duplicate won", () -> large.connection(small.peerId()).orElseThrow(),
                c -> c != first);
        link.moveTo(kept);
        link.send(announce(2));
        Await.until(AWAIT, "the announce on a second stream", () -> received.size() == 2
                && received.get(1).stream().anyMatch(m -> m.getSeq() == 2));
        Await.until(AWAIT, "the losing connection closed", () -> large.connections().size() == 1);
        assertEquals(2, link.streamsOpened());
        assertEquals(0, owner.reopened.get(), "a move is not a failure");
        assertFalse(link.isPerMessage());
        assertEquals(List.of(), owner.perMessage);
    }

    /** The node's side: a garbage frame on a peer's link resets that stream; the next link is read as before. */
    @Test
    void aNodeResetsALinkCarryingGarbageAndReadsTheNextOne() throws Exception {
        TestCluster.Node node = cluster.node("node", SwarmConfig.defaults());
        TestCluster.connectAll(List.of(a, node.host()));
        P2pStream bad = a.newStream(node.host().peerId(), List.of(AnnounceLink.PROTOCOL)).get(10, TimeUnit.SECONDS);
        Frames.write(bad.outputStream(), announce(1).toBuilder().setDigest("md5:00").build());
        Frames.write(bad.outputStream(), announce(2));
        bad.outputStream().flush();
        Await.until(AWAIT, "the bad link reset", () -> {
            try {
                return bad.inputStream().read() < 0;
            } catch (IOException reset) {
                return true;
            }
        });
        assertEquals(0, (int) node.swarm().holders(BLOB).get(10, TimeUnit.SECONDS),
                "nothing after the garbage frame was taken in");
        P2pStream good = a.newStream(node.host().peerId(), List.of(AnnounceLink.PROTOCOL)).get(10, TimeUnit.SECONDS);
        Frames.write(good.outputStream(), Announce.newBuilder().setSynced(true).build());
        Frames.write(good.outputStream(), claim(3));
        Frames.write(good.outputStream(), announce(4));
        good.outputStream().flush();
        Announce answer = Frames.read(good.inputStream(), Announce.parser(), LayerSwarm.MAX_ANNOUNCE);
        assertEquals(BLOB.toString(), answer.getDigest(), "the claim answered on the link");
        Await.until(AWAIT, "the announce after the claim taken in", () -> node.swarm().holders(BLOB).join() == 1);
        good.close();
    }

    static final class RecordingOwner implements AnnounceLink.Owner {
        Host host;
        Host peer;
        final List<Announce> answered = new CopyOnWriteArrayList<>();
        final List<Announce> perMessage = new CopyOnWriteArrayList<>();
        final AtomicInteger reopened = new AtomicInteger();
        /** What the node would do: send its whole state again. */
        volatile Runnable onReopen = () -> { };

        @Override
        public P2pStream open(List<String> protocols) throws IOException {
            try {
                return host.newStream(peer.peerId(), protocols).get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IOException(e);
            }
        }

        @Override
        public boolean connected() {
            return host.connection(peer.peerId()).isPresent();
        }

        @Override
        public void answered(Announce claim, Announce reply) {
            answered.add(claim);
        }

        @Override
        public void perMessage(Announce message) {
            perMessage.add(message);
        }

        @Override
        public void reopened() {
            reopened.incrementAndGet();
            onReopen.run();
        }
    }
}
