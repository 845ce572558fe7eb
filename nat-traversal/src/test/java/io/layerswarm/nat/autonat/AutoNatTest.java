package io.layerswarm.nat.autonat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.nat.LoopbackHosts;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.identify.IdentifyInfo;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.nat.relay.RelayClient;
import io.layerswarm.nat.relay.RelayConfig;
import io.layerswarm.nat.relay.RelayService;
import io.netty.channel.nio.NioEventLoopGroup;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AutoNatTest {
    private final List<AutoCloseable> open = new ArrayList<>();
    private final NioEventLoopGroup group = new NioEventLoopGroup(1);
    private final ExecutorService blocking = Executors.newCachedThreadPool();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        blocking.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private Host host(boolean listen) throws Exception {
        Host h = LoopbackHosts.start(listen);
        open.add(h);
        return h;
    }

    private Host server() throws Exception {
        Host s = host(true);
        AutoNatService.attach(s, group);
        return s;
    }

    static Multiaddr addr(Host h) {
        return h.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + h.peerId().toBase58()));
    }

    @Test
    void reachableHostIsPublicAndAdvertisesTheConfirmedAddress() throws Exception {
        Host server = server();
        Identify.attach(server);
        Host c = host(true);
        Identify.attach(c);
        c.connect(addr(server)).get(10, TimeUnit.SECONDS);
        Reachability r = new Reachability(c, null, List.of(), blocking).install();
        assertEquals(Reachability.Status.PUBLIC, r.check(List.of(server.peerId())).get(30, TimeUnit.SECONDS));
        assertEquals(c.listenAddrs(), r.confirmedAddrs());
        Host other = host(false);
        IdentifyInfo seen = Identify.attach(other).identify(other.connect(addr(c)).get(10, TimeUnit.SECONDS))
                .get(10, TimeUnit.SECONDS);
        assertEquals(c.listenAddrs(), seen.listenAddrs());
    }

    @Test
    void unreachableHostIsPrivateAndAdvertisesItsRelayCircuit() throws Exception {
        Host server = server();
        RelayService.attach(server, RelayConfig.defaults());
        Host c = host(false);
        RelayClient relays = RelayClient.attach(c);
        open.add(relays);
        relays.reserve(addr(server)).get(10, TimeUnit.SECONDS);
        // The NAT's mapping as a peer reported it, but nothing forwards inbound connections to us there.
        int dead;
        try (ServerSocket s = new ServerSocket(0)) {
            dead = s.getLocalPort();
        }
        c.recordObservedAddr(Multiaddr.parse("/ip4/127.0.0.1/tcp/" + dead));
        Reachability r = new Reachability(c, relays, List.of(), blocking).install();
        assertEquals(Reachability.Status.PRIVATE, r.check(List.of(server.peerId())).get(30, TimeUnit.SECONDS));
        assertEquals(relays.relayedAddrs(), c.advertisedAddrs());
        assertTrue(c.advertisedAddrs().get(0).toString().endsWith("/p2p-circuit"), c.advertisedAddrs().toString());
    }

    @Test
    void aListenerWithAnotherIdentityDoesNotCount() throws Exception {
        Host server = server();
        Host c = host(false);
        Host impostor = host(true);
        c.connect(addr(server)).get(10, TimeUnit.SECONDS);
        DialResponse r = new AutoNatClient(c, blocking).probe(server.peerId(), impostor.listenAddrs())
                .get(30, TimeUnit.SECONDS);
        assertEquals(DialResponse.Status.E_DIAL_ERROR, r.status());
        assertTrue(r.text().contains("dial-back failed"), r.text());
    }

    @Test
    void neverDialsAddressesOfOtherHosts() throws Exception {
        Host server = server();
        Host c = host(true);
        c.connect(addr(server)).get(10, TimeUnit.SECONDS);
        try (ServerSocketChannel victim = ServerSocketChannel.open()) {
            victim.bind(new InetSocketAddress("127.0.0.2", 0));
            victim.configureBlocking(false);
            int port = ((InetSocketAddress) victim.getLocalAddress()).getPort();
            DialResponse r = new AutoNatClient(c, blocking)
                    .probe(server.peerId(), List.of(Multiaddr.parse("/ip4/127.0.0.2/tcp/" + port))).get(30, TimeUnit.SECONDS);
            assertEquals(DialResponse.Status.E_DIAL_REFUSED, r.status());
            assertNull(victim.accept(), "the server connected to a third party");
        }
    }

    @Test
    void badRequestsAreAnsweredAndTheServerKeepsWorking() throws Exception {
        Host server = server();
        Host c = host(true);
        // Another peer's id in the request.
        P2pStream s = c.newStream(addr(server), List.of(AutoNatService.PROTOCOL)).get(10, TimeUnit.SECONDS);
        AutoNatService.write(s.outputStream(), AutoNatCodec.encodeDial(Ed25519PrivateKey.generate().peerId(),
                c.listenAddrs()));
        assertEquals(DialResponse.Status.E_BAD_REQUEST, AutoNatCodec.decodeResponse(
                LengthPrefixed.read(s.inputStream(), 4096, AutoNatException::new)).status());
        // Garbage.
        P2pStream g = c.newStream(addr(server), List.of(AutoNatService.PROTOCOL)).get(10, TimeUnit.SECONDS);
        AutoNatService.write(g.outputStream(), new byte[] {0x0a, 0x7f, 0x01});
        assertEquals(DialResponse.Status.E_BAD_REQUEST, AutoNatCodec.decodeResponse(
                LengthPrefixed.read(g.inputStream(), 4096, AutoNatException::new)).status());
        // Still serving.
        assertEquals(DialResponse.Status.OK, new AutoNatClient(c, blocking).probe(server.peerId(), c.listenAddrs())
                .get(30, TimeUnit.SECONDS).status());
    }

    @Test
    void codecRefusesGarbage() throws Exception {
        Random rnd = new Random(5);
        for (int i = 0; i < 3000; i++) {
            byte[] junk = new byte[rnd.nextInt(80)];
            rnd.nextBytes(junk);
            try {
                AutoNatCodec.decodeDial(junk);
            } catch (AutoNatException e) {
                assertTrue(e.getMessage().length() > 10);
            }
            try {
                AutoNatCodec.decodeResponse(junk);
            } catch (AutoNatException e) {
                assertTrue(e.getMessage().length() > 10);
            }
        }
        assertThrows(AutoNatException.class, () -> AutoNatCodec.decodeDial(new byte[AutoNatCodec.MAX_MESSAGE_SIZE + 1]));
        assertThrows(AutoNatException.class, () -> AutoNatCodec.decodeDial(AutoNatCodec.encodeResponse(
                new DialResponse(DialResponse.Status.OK, "", null))));
        List<Multiaddr> many = new ArrayList<>();
        for (int i = 0; i <= AutoNatCodec.MAX_ADDRS; i++) {
            many.add(Multiaddr.parse("/ip4/10.0.0.1/tcp/" + (i + 1)));
        }
        assertThrows(AutoNatException.class, () -> AutoNatCodec.decodeDial(
                AutoNatCodec.encodeDial(Ed25519PrivateKey.generate().peerId(), many)));
        Multiaddr a = Multiaddr.parse("/ip4/1.2.3.4/tcp/5");
        assertEquals(a, AutoNatCodec.decodeResponse(AutoNatCodec.encodeResponse(
                new DialResponse(DialResponse.Status.OK, "", a))).addr());
    }
}
