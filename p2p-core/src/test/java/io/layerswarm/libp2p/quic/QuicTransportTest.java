package io.layerswarm.libp2p.quic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerIdMismatchException;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.identify.IdentifyInfo;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.ping.Ping;
import io.layerswarm.libp2p.tls.TlsSecurity;
import io.layerswarm.node.LayerSwarm;
import io.layerswarm.node.SwarmBlobStore;
import io.layerswarm.node.SwarmConfig;
import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.DownloadResult;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** libp2p over QUIC v1 between two Java hosts on loopback. */
class QuicTransportTest {
    private static final String ECHO = "/test/echo/1.0.0";
    private static final String SHA = "/test/sha256/1.0.0";
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private final Closer open = new Closer();

    @TempDir
    Path tmp;

    @BeforeAll
    static void quicLoads() {
        // The natives are shipped for linux x86_64, where this project's machines and CI run.
        assertTrue(QuicTransport.isAvailable(), "QUIC native library: " + io.netty.handler.codec.quic.Quic.unavailabilityCause());
    }

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    private <T extends AutoCloseable> T add(T c) {
        open.add(c);
        return c;
    }

    private Host quicHost() throws Exception {
        Host h = add(Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/udp/0/quic-v1"))
                .ioThreads(1).build().start());
        h.setBlockingHandler(ECHO, s -> s.inputStream().transferTo(s.outputStream()));
        h.setBlockingHandler(SHA, s -> {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            InputStream in = s.inputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                md.update(buf, 0, n);
            }
            s.outputStream().write(HexFormat.of().formatHex(md.digest()).getBytes(StandardCharsets.US_ASCII));
        });
        return h;
    }

    private static Multiaddr quicAddr(Host h) {
        Multiaddr a = h.listenAddrs().stream().filter(QuicTransport::isQuicAddr).findFirst().orElseThrow();
        return a.encapsulate(Multiaddr.parse("/p2p/" + h.peerId().toBase58()));
    }

    @Test
    void concurrentStreamsEachNegotiateTheirProtocolOverOneQuicConnection() throws Exception {
        Host a = quicHost();
        Host b = quicHost();
        Multiaddr addr = quicAddr(b);
        assertTrue(addr.toString().matches("/ip4/127\\.0\\.0\\.1/udp/\\d+/quic-v1/p2p/12D3.*"), addr.toString());

        Connection c = a.connect(addr).get(30, TimeUnit.SECONDS);
        assertEquals(b.peerId(), c.remotePeer());
        assertEquals(TlsSecurity.PROTOCOL_ID, c.securityProtocol());
        assertEquals(addr.withoutPeerId(), c.remoteAddr());
        assertTrue(c.localAddr().valueOf(MultiaddrProtocol.QUIC_V1).isPresent(), c.localAddr().toString());
        assertFalse(c.isRelayed());
        assertTrue(c.channel() instanceof io.netty.handler.codec.quic.QuicChannel, "no Yamux: QUIC is the muxer");

        Random rnd = new Random(7);
        List<byte[]> payloads = new ArrayList<>();
        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            byte[] data = new byte[(1 << 20) + rnd.nextInt(4096)];
            rnd.nextBytes(data);
            payloads.add(data);
            answers.add(c.newStream(List.of("/not/served/1.0.0", SHA)).thenApplyAsync(s -> {
                try {
                    assertEquals(SHA, s.protocol());
                    assertTrue(s.isInitiator());
                    s.outputStream().write(data);
                    s.outputStream().close();
                    return new String(s.inputStream().readAllBytes(), StandardCharsets.US_ASCII);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (int i = 0; i < payloads.size(); i++) {
            String want = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payloads.get(i)));
            assertEquals(want, answers.get(i).get(60, TimeUnit.SECONDS), "stream " + i);
        }
        // The peer kept the same (single) connection, and it is QUIC on its side too.
        Connection back = Await.until(AWAIT, "b sees a", () -> b.connection(a.peerId()), o -> o.isPresent()).orElseThrow();
        assertTrue(back.remoteAddr().valueOf(MultiaddrProtocol.QUIC_V1).isPresent(), back.remoteAddr().toString());
        assertFalse(back.isInitiator());

        ExecutionException none = assertThrows(ExecutionException.class,
                () -> c.newStream(List.of("/not/served/1.0.0")).get(30, TimeUnit.SECONDS));
        assertTrue(none.getCause().getMessage().contains("not/served") || none.getCause() instanceof java.io.IOException,
                none.getCause().toString());
        // and the connection still carries streams after a refused one
        P2pStream s = c.newStream(List.of(ECHO)).get(30, TimeUnit.SECONDS);
        s.outputStream().write("again".getBytes(StandardCharsets.US_ASCII));
        s.outputStream().close();
        assertEquals("again", new String(s.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
    }

    @Test
    void identifyPingAndKeepAliveRunOverQuic() throws Exception {
        Host a = quicHost();
        Host b = quicHost();
        Identify ida = Identify.attach(a);
        Identify.attach(b);
        Ping.attach(a);
        Ping.attach(b);
        Connection c = a.connect(quicAddr(b)).get(30, TimeUnit.SECONDS);

        IdentifyInfo info = ida.identify(c).get(30, TimeUnit.SECONDS);
        assertEquals(b.peerId(), info.peerId());
        assertTrue(info.listenAddrs().contains(quicAddr(b).withoutPeerId()), info.listenAddrs().toString());
        assertTrue(info.protocols().contains(Ping.PROTOCOL), info.protocols().toString());
        assertTrue(info.observedAddr().orElseThrow().valueOf(MultiaddrProtocol.QUIC_V1).isPresent(), String.valueOf(info.observedAddr()));

        List<Duration> rtts = Ping.ping(c, 3).get(30, TimeUnit.SECONDS);
        assertEquals(3, rtts.size());
        assertTrue(rtts.stream().allMatch(d -> !d.isNegative()), rtts.toString());

        // The muxer-level probe the connection manager's keep-alive sends: answered with the path's RTT.
        Duration rtt = c.ping().get(30, TimeUnit.SECONDS);
        assertTrue(rtt.compareTo(Duration.ZERO) > 0 && rtt.compareTo(Duration.ofSeconds(10)) < 0, rtt.toString());
        assertTrue(c.isOpen());
    }

    @Test
    void aSwarmFetchMovesARealBlobOverQuic() throws Exception {
        byte[] blob = Files.readAllBytes(Path.of("/usr/bin/bash")); // from Debian's bash package
        Digest d = Digest.sha256(blob);
        ContentStore sa = add(ContentStore.open(tmp.resolve("a")));
        ContentStore sb = add(ContentStore.open(tmp.resolve("b")));
        Host ha = quicHost();
        Host hb = quicHost();
        add(LayerSwarm.start(ha, new SwarmBlobStore(sa), SwarmConfig.defaults())); // serves the blob
        LayerSwarm b = add(LayerSwarm.start(hb, new SwarmBlobStore(sb), SwarmConfig.defaults()));
        sa.ingest(d, new ByteArrayInputStream(blob));
        Connection c = hb.connect(quicAddr(ha)).get(30, TimeUnit.SECONDS);
        assertTrue(c.remoteAddr().valueOf(MultiaddrProtocol.QUIC_V1).isPresent());

        DownloadResult r = b.fetch(d, blob.length, null).get(60, TimeUnit.SECONDS);
        assertEquals(blob.length, r.peerBytes());
        sb.verify(d);
        try (InputStream in = sb.open(d)) {
            assertArrayEquals(blob, in.readAllBytes());
        }
        assertEquals(1, hb.connections().size(), "the fetch ran on the QUIC connection, no other was made");
    }

    @Test
    void garbageDatagramsToTheQuicPortLeaveTheListenerWorking() throws Exception {
        Host a = quicHost();
        Host b = quicHost();
        InetSocketAddress target = QuicTransport.toSocketAddress(quicAddr(b));
        Random rnd = new Random(11);
        try (DatagramSocket udp = new DatagramSocket()) {
            for (int i = 0; i < 2000; i++) {
                byte[] junk = new byte[1 + rnd.nextInt(1400)];
                rnd.nextBytes(junk);
                switch (i % 4) {
                    case 0 -> junk[0] = (byte) 0xC0; // long header, version bytes random
                    case 1 -> { // long header claiming QUIC v1 with absurd connection-id lengths
                        if (junk.length > 6) {
                            junk[0] = (byte) 0xC3;
                            junk[1] = 0;
                            junk[2] = 0;
                            junk[3] = 0;
                            junk[4] = 1;
                            junk[5] = (byte) 0xFF;
                        }
                    }
                    case 2 -> junk[0] = (byte) 0x40; // short header for an unknown connection
                    default -> { }
                }
                udp.send(new DatagramPacket(junk, junk.length, target));
            }
            // A QUIC v1 Initial that is too short to be a real one (clients must pad to 1200 bytes).
            byte[] shortInitial = HexFormat.of().parseHex("c000000001088394c8f03e5157080000449e00000002");
            udp.send(new DatagramPacket(shortInitial, shortInitial.length, target));
        }
        Connection c = a.connect(quicAddr(b)).get(30, TimeUnit.SECONDS);
        P2pStream s = c.newStream(List.of(ECHO)).get(30, TimeUnit.SECONDS);
        s.outputStream().write("still here".getBytes(StandardCharsets.US_ASCII));
        s.outputStream().close();
        assertEquals("still here", new String(s.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
        assertEquals(1, b.connections().size(), "garbage made no connection: " + b.connections());
    }

    @Test
    void aWrongPeerIdInTheDialAddressFailsTheHandshake() throws Exception {
        Host a = quicHost();
        Host b = quicHost();
        Multiaddr wrong = quicAddr(b).withoutPeerId()
                .encapsulate(Multiaddr.parse("/p2p/" + Ed25519PrivateKey.generate().peerId().toBase58()));
        ExecutionException e = assertThrows(ExecutionException.class, () -> a.connect(wrong).get(30, TimeUnit.SECONDS));
        assertInstanceOf(PeerIdMismatchException.class, e.getCause(), e.getCause().toString());
        assertTrue(a.connections().isEmpty(), a.connections().toString());
        Await.until(AWAIT, "the listener dropped the refused connection", () -> b.connections().isEmpty());
        // the right id still connects
        assertEquals(b.peerId(), a.connect(quicAddr(b)).get(30, TimeUnit.SECONDS).remotePeer());
    }

    @Test
    void dialsFromAGivenLocalUdpPortAndListensBesideTcp() throws Exception {
        Host a = quicHost();
        Host b = add(Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .listen(Multiaddr.parse("/ip4/127.0.0.1/udp/0/quic-v1")).ioThreads(1).build().start());
        b.setBlockingHandler(ECHO, s -> s.inputStream().transferTo(s.outputStream()));
        assertEquals(2, b.listenAddrs().size(), b.listenAddrs().toString());
        assertTrue(b.listenAddrs().get(0).valueOf(MultiaddrProtocol.TCP).isPresent());

        int port;
        try (DatagramSocket probe = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Connection c = a.quicTransport().dial(quicAddr(b), new InetSocketAddress("127.0.0.1", port))
                .get(30, TimeUnit.SECONDS);
        assertEquals(Multiaddr.parse("/ip4/127.0.0.1/udp/" + port + "/quic-v1"), c.localAddr());
        Connection seen = Await.until(AWAIT, "b sees a", () -> b.connection(a.peerId()), o -> o.isPresent()).orElseThrow();
        assertEquals(c.localAddr(), seen.remoteAddr(), "the peer sees the connection come from that port");
        P2pStream s = c.newStream(List.of(ECHO)).get(30, TimeUnit.SECONDS);
        s.outputStream().write(1);
        s.outputStream().close();
        assertEquals(1, s.inputStream().read());

        // closing the connection frees the port for the next path
        c.close().get(30, TimeUnit.SECONDS);
        Await.until(AWAIT, "the UDP port is free again", () -> {
            try (DatagramSocket again = new DatagramSocket(port, java.net.InetAddress.getLoopbackAddress())) {
                return true;
            } catch (java.net.SocketException busy) {
                return false;
            }
        });
        // and TCP on the same host still works
        Host t = add(Host.builder(Ed25519PrivateKey.generate()).ioThreads(1).build().start());
        Multiaddr tcp = b.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + b.peerId().toBase58()));
        assertTrue(t.connect(tcp).get(30, TimeUnit.SECONDS).remoteAddr().valueOf(MultiaddrProtocol.TCP).isPresent());
    }

    @Test
    void acceptsOneConnectionFromTheExpectedPeerOnAGivenPortAndFreesItAfterwards() throws Exception {
        Host a = quicHost();
        Host b = quicHost();
        Host stranger = quicHost();
        int port;
        try (DatagramSocket probe = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        InetSocketAddress local = new InetSocketAddress("127.0.0.1", port);
        Multiaddr there = Multiaddr.parse("/ip4/127.0.0.1/udp/" + port + "/quic-v1/p2p/" + b.peerId().toBase58());

        // a stranger's connection is refused and fails the accept; the port is free again
        CompletableFuture<Connection> refused = b.quicTransport().accept(local, a.peerId());
        // (the stranger's own handshake may finish before the listener's check closes it)
        stranger.connect(there).handle((c, x) -> null).get(30, TimeUnit.SECONDS);
        ExecutionException e = assertThrows(ExecutionException.class, () -> refused.get(30, TimeUnit.SECONDS));
        assertInstanceOf(PeerIdMismatchException.class, e.getCause(), e.getCause().toString());
        Await.until(AWAIT, "the refused accept freed the port", () -> portFree(port));
        Await.until(AWAIT, "the stranger's connection closed", () -> stranger.connections().isEmpty());

        CompletableFuture<Connection> accepted = b.quicTransport().accept(local, a.peerId());
        Connection c = a.connect(there).get(30, TimeUnit.SECONDS);
        Connection seen = accepted.get(30, TimeUnit.SECONDS);
        assertEquals(a.peerId(), seen.remotePeer());
        assertEquals(Multiaddr.parse("/ip4/127.0.0.1/udp/" + port + "/quic-v1"), seen.localAddr());
        P2pStream s = c.newStream(List.of(ECHO)).get(30, TimeUnit.SECONDS);
        s.outputStream().write(7);
        s.outputStream().close();
        assertEquals(7, s.inputStream().read());
        c.close().get(30, TimeUnit.SECONDS);
        Await.until(AWAIT, "the accepted connection's end freed the port", () -> portFree(port));
    }

    @Test
    void aPathThroughAForwarderShowsThePeersAddressOnBothEnds() throws Exception {
        Host a = quicHost();
        Host b = quicHost();
        b.setBlockingHandler(ECHO, s -> s.inputStream().transferTo(s.outputStream()));
        int port;
        try (DatagramSocket probe = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        // The datagrams go to b's socket itself (standing in for a relay's local forwarder); each end shows the
        // address its caller names instead of the loopback one its socket talks to.
        Multiaddr shownB = Multiaddr.parse("/ip4/203.0.113.9/udp/4001/quic-v1");
        Multiaddr shownA = Multiaddr.parse("/ip4/198.51.100.7/udp/5001/quic-v1");
        InetSocketAddress bSocket = new InetSocketAddress("127.0.0.1", port);
        CompletableFuture<Connection> accepted = b.quicTransport().accept(bSocket, a.peerId(), shownA);
        Connection c = a.quicTransport().dial(shownB.encapsulate(Multiaddr.parse("/p2p/" + b.peerId().toBase58())),
                new InetSocketAddress("127.0.0.1", 0), bSocket).get(30, TimeUnit.SECONDS);
        assertEquals(shownB, c.remoteAddr());
        assertEquals(shownA, accepted.get(30, TimeUnit.SECONDS).remoteAddr());
        P2pStream s = c.newStream(List.of(ECHO)).get(30, TimeUnit.SECONDS);
        s.outputStream().write(9);
        s.outputStream().close();
        assertEquals(9, s.inputStream().read());
    }

    private static boolean portFree(int port) {
        try (DatagramSocket again = new DatagramSocket(port, java.net.InetAddress.getLoopbackAddress())) {
            return true;
        } catch (java.net.SocketException busy) {
            return false;
        }
    }

    @Test
    void aPrivateNetworkHostRefusesQuic() throws Exception {
        Host b = quicHost();
        Host priv = add(Host.builder(Ed25519PrivateKey.generate()).swarmKey(io.layerswarm.libp2p.pnet.SwarmKey.generate())
                .ioThreads(1).build().start());
        ExecutionException e = assertThrows(ExecutionException.class, () -> priv.connect(quicAddr(b)).get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("private network"), e.getCause().toString());
        assertThrows(java.io.IOException.class, () -> Host.builder(Ed25519PrivateKey.generate())
                .swarmKey(io.layerswarm.libp2p.pnet.SwarmKey.generate())
                .listen(Multiaddr.parse("/ip4/127.0.0.1/udp/0/quic-v1")).ioThreads(1).build().start());
    }

    @Test
    void quicAddressesAreParsedStrictly() {
        assertEquals(new InetSocketAddress("10.1.2.3", 4001),
                QuicTransport.toSocketAddress(Multiaddr.parse("/ip4/10.1.2.3/udp/4001/quic-v1")));
        assertFalse(QuicTransport.isQuicAddr(Multiaddr.parse("/ip4/10.1.2.3/tcp/4001")));
        assertFalse(QuicTransport.isQuicAddr(Multiaddr.parse("/ip4/10.1.2.3/udp/4001/quic")), "draft-29 is not dialled");
        assertThrows(IllegalArgumentException.class,
                () -> QuicTransport.toSocketAddress(Multiaddr.parse("/ip4/10.1.2.3/udp/4001")));
        assertEquals(Multiaddr.parse("/ip6/::1/udp/9/quic-v1"),
                QuicTransport.toMultiaddr(new InetSocketAddress("::1", 9)));
    }
}
