package io.layerswarm.nat.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.host.UpgradeClosedException;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.multiformats.Varint;
import io.layerswarm.libp2p.multistream.ProtocolNotSupportedException;
import io.layerswarm.testing.Await;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RelayTest {
    /** Deadline of an awaited condition: it only bounds a hang. */
    private static final Duration AWAIT = Duration.ofSeconds(30);
    static final String ECHO = "/layerswarm/test/echo/1.0.0";
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private Host host() throws Exception {
        Host h = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .ioThreads(1).build().start();
        open.add(h);
        h.setBlockingHandler(ECHO, s -> s.inputStream().transferTo(s.outputStream()));
        return h;
    }

    static Multiaddr addr(Host h) {
        return h.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + h.peerId().toBase58()));
    }

    static Multiaddr circuit(Host relay, Host target) {
        return addr(relay).encapsulate(Multiaddr.parse("/p2p-circuit/p2p/" + target.peerId().toBase58()));
    }

    private RelayClient client(Host h) {
        RelayClient c = RelayClient.attach(h);
        open.add(c);
        return c;
    }

    /** Sends {@code data} on an echo stream and returns what came back (stream half-closed after sending). */
    static byte[] echo(Connection c, byte[] data) throws Exception {
        P2pStream s = c.newStream(List.of(ECHO)).get(10, TimeUnit.SECONDS);
        Thread writer = new Thread(() -> {
            try (OutputStream out = s.outputStream()) {
                out.write(data);
            } catch (IOException ignored) {
                // the reader sees the failure
            }
        });
        writer.start();
        byte[] back = s.inputStream().readAllBytes();
        writer.join(10_000);
        return back;
    }


    @Test
    void reservedPeerIsDialableThroughTheRelay() throws Exception {
        Host relay = host();
        RelayService service = RelayService.attach(relay, RelayConfig.defaults());
        Host a = host();
        Host b = host();
        RelayClient ca = client(a);
        client(b);

        Reservation r = ca.keepReservation(addr(relay)).get(10, TimeUnit.SECONDS);
        assertTrue(r.expireEpochSeconds() > System.currentTimeMillis() / 1000);
        assertTrue(r.addrs().contains(addr(relay)), r.addrs().toString());
        assertEquals(List.of(a.peerId()), service.reservedPeers());
        assertEquals(List.of(addr(relay).encapsulate(Multiaddr.parse("/p2p-circuit"))), ca.relayedAddrs());

        Connection c = b.connect(circuit(relay, a)).get(10, TimeUnit.SECONDS);
        assertEquals(a.peerId(), c.remotePeer());
        assertTrue(c.isRelayed());
        assertEquals(circuit(relay, a), c.remoteAddr());
        byte[] data = new byte[1 << 20];
        new Random(1).nextBytes(data);
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data),
                MessageDigest.getInstance("SHA-256").digest(echo(c, data)));
        Await.until(AWAIT, "a to see the relayed connection from b",
                () -> a.connection(b.peerId()).map(Connection::isRelayed).orElse(false));
        assertEquals(1, service.openCircuits());
        // The relayed connection also works from the other side: a opens a stream to b.
        assertArrayEquals("hi".getBytes(), echo(a.connection(b.peerId()).orElseThrow(), "hi".getBytes()));
        c.close().get(5, TimeUnit.SECONDS);
        Await.until(AWAIT, "the circuit to be released", () -> service.openCircuits() == 0);
    }

    @Test
    void directConnectionWinsOverRelayed() throws Exception {
        Host relay = host();
        RelayService.attach(relay, RelayConfig.defaults());
        Host a = host();
        Host b = host();
        client(a).reserve(addr(relay)).get(10, TimeUnit.SECONDS);
        client(b);
        Connection relayed = b.connect(circuit(relay, a)).get(10, TimeUnit.SECONDS);
        assertTrue(relayed.isRelayed());
        Connection direct = b.connect(addr(a)).get(10, TimeUnit.SECONDS);
        assertFalse(direct.isRelayed());
        assertEquals(direct, b.connection(a.peerId()).orElseThrow());
    }

    @Test
    void dialWithoutReservationIsRefused() throws Exception {
        Host relay = host();
        RelayService.attach(relay, RelayConfig.defaults());
        Host a = host();
        Host b = host();
        client(b);
        a.connect(addr(relay)).get(10, TimeUnit.SECONDS);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> b.connect(circuit(relay, a)).get(10, TimeUnit.SECONDS));
        RelayClient.RelayRefusedException refused = assertInstanceOf(RelayClient.RelayRefusedException.class, e.getCause());
        assertEquals(RelayStatus.NO_RESERVATION, refused.status());
    }

    @Test
    void aPeerWithoutARelayServiceIsNotAskedForAReservationAgain() throws Exception {
        Host notARelay = host(); // speaks libp2p, runs no hop protocol (a node named as bootstrap peer)
        Host a = host();
        RelayClient ca = client(a);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> ca.keepReservation(addr(notARelay)).get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof ProtocolNotSupportedException
                || e.getCause().getCause() instanceof ProtocolNotSupportedException, e::toString);
        // the retry (1 s later with the old code) is never scheduled: the relay is no longer kept
        Await.until(AWAIT, "the non-relay to be dropped", () -> !ca.keeps(notARelay.peerId()));
        assertTrue(ca.reservedRelays().isEmpty());
    }

    @Test
    void relayedDialWhoseRelayConnectionClosedDuringTheUpgradeIsTriedOnceMore() throws Exception {
        Host relay = host();
        RelayService.attach(relay, RelayConfig.defaults());
        Host a = host();
        Host b = host();
        client(a).keepReservation(addr(relay)).get(10, TimeUnit.SECONDS);
        client(b);
        ClosingProxy proxy = new ClosingProxy(relay.listenAddrs().get(0).socketAddress(MultiaddrProtocol.TCP), 1);
        open.add(proxy);
        Connection c = b.connect(viaProxy(proxy, relay, a)).get(30, TimeUnit.SECONDS);
        assertEquals(2, proxy.accepted(), "the closed first connection to the relay, then the retry's");
        assertTrue(c.isRelayed());
        assertEquals(a.peerId(), c.remotePeer());
        assertArrayEquals("through".getBytes(), echo(c, "through".getBytes()));
    }

    @Test
    void relayedDialIsTriedOnlyOnceMore() throws Exception {
        Host relay = host();
        RelayService.attach(relay, RelayConfig.defaults());
        Host a = host();
        Host b = host();
        client(a).keepReservation(addr(relay)).get(10, TimeUnit.SECONDS);
        client(b);
        ClosingProxy proxy = new ClosingProxy(relay.listenAddrs().get(0).socketAddress(MultiaddrProtocol.TCP),
                Integer.MAX_VALUE);
        open.add(proxy);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> b.connect(viaProxy(proxy, relay, a)).get(30, TimeUnit.SECONDS));
        assertInstanceOf(UpgradeClosedException.class, e.getCause() instanceof CompletionException ce ? ce.getCause()
                : e.getCause());
        assertEquals(2, proxy.accepted());
        assertFalse(b.connection(a.peerId()).isPresent());
    }

    /** {@code a}'s circuit address on {@code relay}, dialled through {@code proxy}. */
    private static Multiaddr viaProxy(ClosingProxy proxy, Host relay, Host a) {
        return Multiaddr.parse("/ip4/127.0.0.1/tcp/" + proxy.port() + "/p2p/" + relay.peerId().toBase58()
                + "/p2p-circuit/p2p/" + a.peerId().toBase58());
    }

    @Test
    void circuitAddressWithoutTransportIsRefusedNotDialledAsTcp() throws Exception {
        Host relay = host();
        Host b = host();
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> b.connect(circuit(relay, host())).get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("no transport"), e.getCause().getMessage());
    }

    @Test
    void dataLimitClosesTheCircuit() throws Exception {
        Host relay = host();
        RelayService service = RelayService.attach(relay, RelayConfig.defaults().withCircuitLimit(new RelayLimit(0, 64 << 10)));
        Host a = host();
        Host b = host();
        client(a).reserve(addr(relay)).get(10, TimeUnit.SECONDS);
        client(b);
        Connection c = b.connect(circuit(relay, a)).get(10, TimeUnit.SECONDS);
        assertArrayEquals(new byte[1000], echo(c, new byte[1000]));
        assertThrows(Exception.class, () -> echo(c, new byte[1 << 20]));
        Await.until(AWAIT, "the relayed connection to close at the data limit", () -> !c.isOpen());
        Await.until(AWAIT, "the circuit to be released", () -> service.openCircuits() == 0);
        assertTrue(relay.connection(a.peerId()).isPresent(), "the relay keeps its connection to a");
    }

    @Test
    void durationLimitClosesTheCircuit() throws Exception {
        Host relay = host();
        RelayService.attach(relay, RelayConfig.defaults().withCircuitLimit(new RelayLimit(1, 0)));
        Host a = host();
        Host b = host();
        client(a).reserve(addr(relay)).get(10, TimeUnit.SECONDS);
        client(b);
        Connection c = b.connect(circuit(relay, a)).get(10, TimeUnit.SECONDS);
        assertTrue(c.isOpen());
        Await.until(AWAIT, "the relayed connection to close after its 1 s limit", () -> !c.isOpen());
    }

    @Test
    void circuitsPerPeerAreLimited() throws Exception {
        Host relay = host();
        RelayService.attach(relay, RelayConfig.defaults().withCircuits(64, 1));
        Host a = host();
        Host b = host();
        Host d = host();
        client(a).reserve(addr(relay)).get(10, TimeUnit.SECONDS);
        client(b);
        client(d);
        b.connect(circuit(relay, a)).get(10, TimeUnit.SECONDS);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> d.connect(circuit(relay, a)).get(10, TimeUnit.SECONDS));
        assertEquals(RelayStatus.RESOURCE_LIMIT_EXCEEDED,
                assertInstanceOf(RelayClient.RelayRefusedException.class, e.getCause()).status());
    }

    @Test
    void reservationsPerIpAndInTotalAreLimited() throws Exception {
        Host relay = host();
        RelayService service = RelayService.attach(relay, RelayConfig.defaults().withReservations(3, 2));
        client(host()).reserve(addr(relay)).get(10, TimeUnit.SECONDS);
        RelayClient second = client(host());
        second.reserve(addr(relay)).get(10, TimeUnit.SECONDS);
        // Refreshing an existing reservation is not a new one.
        second.reserve(addr(relay)).get(10, TimeUnit.SECONDS);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> client(host()).reserve(addr(relay)).get(10, TimeUnit.SECONDS));
        assertEquals(RelayStatus.RESOURCE_LIMIT_EXCEEDED,
                assertInstanceOf(RelayClient.RelayRefusedException.class, e.getCause()).status());
        assertEquals(2, service.reservedPeers().size());
    }

    @Test
    void reservationEndsWhenThePeerDisconnects() throws Exception {
        Host relay = host();
        RelayService service = RelayService.attach(relay, RelayConfig.defaults());
        Host a = host();
        client(a).reserve(addr(relay)).get(10, TimeUnit.SECONDS);
        assertEquals(1, service.reservedPeers().size());
        a.connection(relay.peerId()).orElseThrow().close().get(5, TimeUnit.SECONDS);
        Await.until(AWAIT, "the reservation to be dropped", () -> service.reservedPeers().isEmpty());
    }

    @Test
    void keptReservationComesBackAfterTheRelayConnectionDrops() throws Exception {
        Host relay = host();
        RelayService service = RelayService.attach(relay, RelayConfig.defaults());
        Host a = host();
        RelayClient ca = RelayClient.attach(a, Duration.ofSeconds(1), java.time.Clock.systemUTC());
        open.add(ca);
        ca.keepReservation(addr(relay)).get(10, TimeUnit.SECONDS);
        relay.connection(a.peerId()).orElseThrow().close().get(5, TimeUnit.SECONDS);
        Await.until(AWAIT, "a to reserve again",
                () -> relay.connection(a.peerId()).isPresent() && service.reservedPeers().contains(a.peerId()));
        Host b = host();
        client(b);
        assertEquals(a.peerId(), b.connect(circuit(relay, a)).get(10, TimeUnit.SECONDS).remotePeer());
    }

    @Test
    void garbageOnTheHopStreamIsAnsweredAndTheRelayKeepsWorking() throws Exception {
        Host relay = host();
        RelayService.attach(relay, RelayConfig.defaults());
        Host x = host();
        // A frame that is not a hop message: the relay answers MALFORMED_MESSAGE.
        P2pStream s = x.newStream(addr(relay), List.of(RelayService.HOP)).get(10, TimeUnit.SECONDS);
        byte[] junk = {0x0f, (byte) 0xff, 0x01, 0x02};
        s.outputStream().write(Varint.encode(junk.length));
        s.outputStream().write(junk);
        s.outputStream().flush();
        HopMessage answer = CircuitCodec.decodeHop(LengthPrefixed.read(s.inputStream(), 4096, IOException::new));
        assertEquals(RelayStatus.MALFORMED_MESSAGE, answer.status());
        // A STATUS sent to the relay is unexpected.
        P2pStream s2 = x.newStream(addr(relay), List.of(RelayService.HOP)).get(10, TimeUnit.SECONDS);
        byte[] status = CircuitCodec.encode(HopMessage.status(RelayStatus.OK, null));
        s2.outputStream().write(Varint.encode(status.length));
        s2.outputStream().write(status);
        s2.outputStream().flush();
        assertEquals(RelayStatus.UNEXPECTED_MESSAGE,
                CircuitCodec.decodeHop(LengthPrefixed.read(s2.inputStream(), 4096, IOException::new)).status());
        // An oversized length prefix: the stream is closed without an answer.
        P2pStream s3 = x.newStream(addr(relay), List.of(RelayService.HOP)).get(10, TimeUnit.SECONDS);
        s3.outputStream().write(Varint.encode(1 << 20));
        s3.outputStream().write(new byte[100]);
        s3.outputStream().flush();
        InputStream in = s3.inputStream();
        assertThrows(IOException.class, () -> {
            if (in.read() < 0) {
                throw new IOException("closed");
            }
        });
        // The relay still grants reservations.
        client(x).reserve(addr(relay)).get(10, TimeUnit.SECONDS);
    }

    @Test
    void stopFromAPeerWithoutReservationIsDenied() throws Exception {
        Host a = host();
        client(a);
        Host intruder = host();
        P2pStream s = intruder.newStream(addr(a), List.of(RelayService.STOP)).get(10, TimeUnit.SECONDS);
        byte[] connect = CircuitCodec.encode(StopMessage.connect(new RelayPeer(intruder.peerId(), List.of()), null));
        s.outputStream().write(Varint.encode(connect.length));
        s.outputStream().write(connect);
        s.outputStream().flush();
        assertEquals(RelayStatus.PERMISSION_DENIED,
                CircuitCodec.decodeStop(LengthPrefixed.read(s.inputStream(), 4096, IOException::new)).status());
        assertFalse(a.connection(intruder.peerId()).map(Connection::isRelayed).orElse(false));
    }

    @Test
    void circuitAddressParsing() {
        Host dummy = null;
        Multiaddr c = Multiaddr.parse("/ip4/1.2.3.4/tcp/5/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
                + "/p2p-circuit/p2p/12D3KooWBkR8F7p8u2yLUqHe1qWWqT5Vj1mDmqBLEEbGxYd6v7xj");
        assertEquals(Multiaddr.parse("/ip4/1.2.3.4/tcp/5/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"),
                RelayClient.relayPart(c));
        assertEquals("12D3KooWBkR8F7p8u2yLUqHe1qWWqT5Vj1mDmqBLEEbGxYd6v7xj", RelayClient.targetPeer(c).toBase58());
        assertThrows(IllegalArgumentException.class, () -> RelayClient.relayPart(Multiaddr.parse("/ip4/1.2.3.4/tcp/5/p2p-circuit/p2p/"
                + "12D3KooWBkR8F7p8u2yLUqHe1qWWqT5Vj1mDmqBLEEbGxYd6v7xj")));
        assertThrows(IllegalArgumentException.class, () -> RelayClient.targetPeer(Multiaddr.parse(
                "/ip4/1.2.3.4/tcp/5/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA/p2p-circuit")));
        assertEquals(null, dummy);
    }
}
