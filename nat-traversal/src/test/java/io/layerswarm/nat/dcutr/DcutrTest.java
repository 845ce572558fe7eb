package io.layerswarm.nat.dcutr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.ping.Ping;
import io.layerswarm.nat.LoopbackHosts;
import io.layerswarm.nat.path.ConnectionPaths;
import io.layerswarm.nat.relay.RelayClient;
import io.layerswarm.nat.relay.RelayConfig;
import io.layerswarm.nat.relay.RelayService;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * DCUtR between two Java hosts that first meet through a circuit relay on loopback: the peer that accepted the
 * relayed connection starts, the other answers; whichever side's dial gets through, both end with a direct
 * connection and the relayed one is dropped. A peer that answers garbage, or never answers, ends the session
 * with an error saying so, and the node keeps serving.
 */
class DcutrTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private final Closer closer = new Closer();
    private ExecutorService pool;
    private Host relay;

    @AfterEach
    void close() throws Exception {
        closer.close();
    }

    private void startRelay() throws Exception {
        pool = Executors.newCachedThreadPool();
        closer.add(pool::shutdownNow);
        relay = closer.add(LoopbackHosts.start(true));
        closer.add(RelayService.attach(relay, RelayConfig.defaults()));
    }

    private static Multiaddr addr(Host h) {
        return h.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + h.peerId().toBase58()));
    }

    /** A host with a reservation on the relay, so it can be reached through it. */
    private Host reserved(boolean listen) throws Exception {
        Host h = closer.add(LoopbackHosts.start(listen));
        Ping.attach(h);
        RelayClient c = closer.add(RelayClient.attach(h));
        c.keepReservation(addr(relay)).get(30, TimeUnit.SECONDS);
        return h;
    }

    /** {@code dialler} reaches {@code target} through the relay; {@code target} holds the inbound relayed side. */
    private Connection relayed(Host dialler, Host target) throws Exception {
        Connection c = dialler.connect(addr(relay).encapsulate(Multiaddr.parse("/p2p-circuit/p2p/"
                + target.peerId().toBase58()))).get(30, TimeUnit.SECONDS);
        assertTrue(c.isRelayed());
        Await.until(WAIT, "the target holds the relayed connection", () -> target.connection(dialler.peerId())
                .map(Connection::isRelayed).orElse(false));
        return c;
    }

    private Dcutr dcutr(Host h, Duration deadline) {
        return Dcutr.attach(h, h::listenAddrs, pool, deadline);
    }

    private static void assertOnlyDirect(Host h, PeerId peer) throws InterruptedException {
        Await.until(WAIT, h.peerId() + " keeps only a direct connection to " + peer, () -> {
            List<Connection> to = h.connections().stream().filter(c -> c.remotePeer().equals(peer) && c.isOpen()).toList();
            return !to.isEmpty() && to.stream().noneMatch(Connection::isRelayed);
        });
    }

    private void upgradesToDirect(boolean starterListens, boolean responderListens) throws Exception {
        startRelay();
        Host starter = reserved(starterListens);
        Host responder = closer.add(LoopbackHosts.start(responderListens));
        Ping.attach(responder);
        closer.add(RelayClient.attach(responder));
        Dcutr starting = dcutr(starter, Dcutr.DEFAULT_DEADLINE);
        dcutr(responder, Dcutr.DEFAULT_DEADLINE);
        relayed(responder, starter);

        Connection direct = starting.upgrade(responder.peerId()).get(30, TimeUnit.SECONDS);
        assertFalse(direct.isRelayed(), direct.toString());
        assertEquals(responder.peerId(), direct.remotePeer());
        assertTrue(direct.ping().get(30, TimeUnit.SECONDS).toNanos() >= 0);
        assertOnlyDirect(starter, responder.peerId());
        assertOnlyDirect(responder, starter.peerId());
        Connection fromResponder = responder.connection(starter.peerId()).orElseThrow();
        assertFalse(fromResponder.isRelayed());
        // a second upgrade has nothing to do
        assertEquals(starter.connection(responder.peerId()).orElseThrow(),
                starting.upgrade(responder.peerId()).get(30, TimeUnit.SECONDS));
    }

    @Test
    void bothListeningEndDirectAndDropTheRelayedConnection() throws Exception {
        upgradesToDirect(true, true);
    }

    @Test
    void theStartersDialAloneMakesTheDirectConnection() throws Exception {
        // the starter has no listen address (as behind a NAT that admits nothing): its CONNECT is empty, and only
        // its own dial, half a round trip after SYNC, can get through
        upgradesToDirect(false, true);
    }

    @Test
    void theRespondersDialOnSyncAloneMakesTheDirectConnection() throws Exception {
        upgradesToDirect(true, false);
    }

    @Test
    void quicAddressesAreDialledOverQuic() throws Exception {
        startRelay();
        // both listen on QUIC only (the relay is reached over TCP): the CONNECTs carry /udp/N/quic-v1 addresses
        Host starter = closer.add(Host.builder(Ed25519PrivateKey.generate())
                .listen(Multiaddr.parse("/ip4/127.0.0.1/udp/0/quic-v1")).ioThreads(1).build().start());
        closer.add(RelayClient.attach(starter)).keepReservation(addr(relay)).get(30, TimeUnit.SECONDS);
        Host responder = closer.add(Host.builder(Ed25519PrivateKey.generate())
                .listen(Multiaddr.parse("/ip4/127.0.0.1/udp/0/quic-v1")).ioThreads(1).build().start());
        closer.add(RelayClient.attach(responder));
        Dcutr starting = dcutr(starter, Dcutr.DEFAULT_DEADLINE);
        dcutr(responder, Dcutr.DEFAULT_DEADLINE);
        relayed(responder, starter);

        Connection direct = starting.upgrade(responder.peerId()).get(30, TimeUnit.SECONDS);
        assertEquals("quic", ConnectionPaths.transport(direct));
        assertEquals("direct", ConnectionPaths.path(direct));
        assertOnlyDirect(starter, responder.peerId());
        assertOnlyDirect(responder, starter.peerId());
    }

    @Test
    void aPeerThatAnswersGarbageFailsTheSessionClearlyAndTheNodeKeepsServing() throws Exception {
        startRelay();
        Host starter = reserved(true);
        Host liar = closer.add(LoopbackHosts.start(true));
        Ping.attach(liar);
        closer.add(RelayClient.attach(liar));
        liar.setBlockingHandler(Dcutr.PROTOCOL, s -> {
            LengthPrefixed.read(s.inputStream(), DcutrCodec.MAX_MESSAGE_SIZE, DcutrProtocolException::new);
            s.outputStream().write(LengthPrefixed.frame(new byte[] {(byte) 0xff, 1, 2}));
            s.outputStream().flush();
            s.inputStream().readAllBytes();
        });
        Dcutr starting = dcutr(starter, Dcutr.DEFAULT_DEADLINE);
        Connection via = relayed(liar, starter);

        ExecutionException e = assertThrows(ExecutionException.class,
                () -> starting.upgrade(liar.peerId()).get(30, TimeUnit.SECONDS));
        assertInstanceOf(DcutrProtocolException.class, e.getCause(), e.toString());
        assertTrue(e.getCause().getMessage().contains("not valid protobuf"), e.getCause().getMessage());
        assertTrue(starter.connection(liar.peerId()).orElseThrow().isRelayed(), "still relayed, and usable:");
        assertTrue(via.ping().get(30, TimeUnit.SECONDS).toNanos() >= 0);

        // the other way: garbage to a responder is refused with a reset, and it serves the next peer
        Host honest = reserved(true);
        Dcutr honestDcutr = dcutr(honest, Dcutr.DEFAULT_DEADLINE);
        Connection toHonest = relayed(liar, honest);
        P2pStream s = toHonest.newStream(List.of(Dcutr.PROTOCOL)).get(30, TimeUnit.SECONDS);
        s.outputStream().write(LengthPrefixed.frame(new byte[DcutrCodec.MAX_MESSAGE_SIZE + 1]));
        s.outputStream().flush();
        int answer;
        try {
            answer = s.inputStream().read();
        } catch (IOException reset) {
            answer = -1;
        }
        assertEquals(-1, answer, "the responder answers an oversized frame with nothing but the stream's end");
        Host other = closer.add(LoopbackHosts.start(true));
        closer.add(RelayClient.attach(other));
        dcutr(other, Dcutr.DEFAULT_DEADLINE);
        relayed(other, honest);
        assertFalse(honestDcutr.upgrade(other.peerId()).get(30, TimeUnit.SECONDS).isRelayed());
    }

    @Test
    void aPeerThatNeverAnswersFailsTheSessionAtItsDeadline() throws Exception {
        startRelay();
        Host starter = reserved(true);
        Host mute = closer.add(LoopbackHosts.start(true));
        closer.add(RelayClient.attach(mute));
        mute.setBlockingHandler(Dcutr.PROTOCOL, s -> s.inputStream().readAllBytes());
        Duration deadline = Duration.ofSeconds(2);
        Dcutr starting = dcutr(starter, deadline);
        relayed(mute, starter);

        ExecutionException e = assertThrows(ExecutionException.class,
                () -> starting.upgrade(mute.peerId()).get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("did not come within the DCUtR deadline of " + deadline),
                e.getCause().toString());
        assertTrue(e.getCause().getMessage().contains("CONNECT"), e.getCause().getMessage());
    }
}
