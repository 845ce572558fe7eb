package io.layerswarm.libp2p.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.noise.NoiseSecurity;
import io.layerswarm.libp2p.tls.TlsSecurity;
import io.layerswarm.testing.Await;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

public class HostTest {
    private static final Duration AWAIT = Duration.ofSeconds(30);
    static final String ECHO = "/test/echo/1.0.0";
    static final String SHA = "/test/sha256/1.0.0";
    private Host a;
    private Host b;

    static Host newHost() throws Exception {
        return Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .ioThreads(1).build().start();
    }

    static Multiaddr fullAddr(Host h) {
        return h.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + h.peerId().toBase58()));
    }

    /** Reads the whole request, answers with its hex sha256. */
    public static void serveSha(P2pStream s) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[64 * 1024];
        InputStream in = s.inputStream();
        int n;
        while ((n = in.read(buf)) >= 0) {
            md.update(buf, 0, n);
        }
        s.outputStream().write(HexFormat.of().formatHex(md.digest()).getBytes(StandardCharsets.US_ASCII));
    }

    @AfterEach
    void tearDown() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    @Test
    void blockingEchoBetweenTwoHosts() throws Exception {
        a = newHost();
        b = newHost();
        b.setBlockingHandler(ECHO, s -> s.inputStream().transferTo(s.outputStream()));
        P2pStream s = a.newStream(fullAddr(b), List.of("/nope/1.0.0", ECHO)).get(10, TimeUnit.SECONDS);
        assertEquals(ECHO, s.protocol());
        assertEquals(b.peerId(), s.remotePeer());
        s.outputStream().write("ping pong".getBytes(StandardCharsets.UTF_8));
        s.outputStream().close();
        assertEquals("ping pong", new String(s.inputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(a.peerId(), b.connection(a.peerId()).orElseThrow().remotePeer());
    }

    /**
     * A blocking handler still running when its host closes resets its stream on failure: the reset must not
     * throw (seen in bench-deadpeers: RejectedExecutionException uncaught in p2p-stream threads of a closed host).
     */
    @Test
    void aStreamOfAClosedHostCanStillBeReset() throws Exception {
        a = newHost();
        b = newHost();
        CompletableFuture<P2pStream> served = new CompletableFuture<>();
        CountDownLatch done = new CountDownLatch(1);
        b.setBlockingHandler(ECHO, s -> {
            served.complete(s);
            done.await(30, TimeUnit.SECONDS);
        });
        a.newStream(fullAddr(b), List.of(ECHO)).get(10, TimeUnit.SECONDS).outputStream().write(1);
        P2pStream stream = served.get(10, TimeUnit.SECONDS);
        b.close(); // its event loops are shut down when close returns
        b = null;
        stream.reset();
        stream.close();
        done.countDown();
    }

    @Test
    void tlsHostsCarryYamuxStreams() throws Exception {
        List<String> tlsFirst = List.of(TlsSecurity.PROTOCOL_ID, NoiseSecurity.PROTOCOL_ID);
        a = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .security(tlsFirst).ioThreads(1).build().start();
        b = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .security(List.of(TlsSecurity.PROTOCOL_ID)).ioThreads(1).build().start();
        b.setBlockingHandler(SHA, HostTest::serveSha);
        b.setBlockingHandler(ECHO, s -> s.inputStream().transferTo(s.outputStream()));
        CompletableFuture<Connection> inbound = new CompletableFuture<>();
        b.addConnectionListener(new ConnectionListener() {
            @Override
            public void connected(Connection c) {
                inbound.complete(c);
            }
        });
        Connection c = a.connect(fullAddr(b)).get(10, TimeUnit.SECONDS);
        assertEquals(TlsSecurity.PROTOCOL_ID, c.securityProtocol());
        assertEquals(b.peerId(), c.remotePeer());
        Connection in = inbound.get(10, TimeUnit.SECONDS);
        assertEquals(TlsSecurity.PROTOCOL_ID, in.securityProtocol());
        assertEquals(a.peerId(), in.remotePeer());
        List<CompletableFuture<String>> echoes = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String msg = "stream " + i;
            echoes.add(a.newStream(b.peerId(), List.of(ECHO)).thenApplyAsync(s -> {
                try {
                    s.outputStream().write(msg.getBytes(StandardCharsets.UTF_8));
                    s.outputStream().close();
                    return new String(s.inputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }));
        }
        for (int i = 0; i < 8; i++) {
            assertEquals("stream " + i, echoes.get(i).get(10, TimeUnit.SECONDS));
        }
        P2pStream s = a.newStream(b.peerId(), List.of(SHA)).get(10, TimeUnit.SECONDS);
        byte[] data = new byte[8 << 20];
        new Random(11).nextBytes(data);
        s.outputStream().write(data);
        s.outputStream().close();
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)),
                new String(s.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
    }

    @Test
    void sixtyFourMiBCheckedBySha256() throws Exception {
        a = newHost();
        b = newHost();
        b.setBlockingHandler(SHA, HostTest::serveSha);
        P2pStream s = a.newStream(fullAddr(b), List.of(SHA)).get(10, TimeUnit.SECONDS);
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Random rnd = new Random(5);
        byte[] chunk = new byte[1 << 20];
        OutputStream out = s.outputStream();
        for (int i = 0; i < 64; i++) {
            rnd.nextBytes(chunk);
            md.update(chunk);
            out.write(chunk);
        }
        out.close();
        String got = new String(s.inputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertEquals(HexFormat.of().formatHex(md.digest()), got);
    }

    @Test
    void pipelineHandlersOnBothSides() throws Exception {
        a = newHost();
        b = newHost();
        b.setStreamHandler(ECHO, s -> s.channel().pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.writeAndFlush(msg);
            }
        }));
        CompletableFuture<String> got = new CompletableFuture<>();
        a.connect(fullAddr(b)).get(10, TimeUnit.SECONDS)
                .newStream(List.of(ECHO), s -> s.channel().pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        ctx.fireChannelActive();
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        got.complete(((ByteBuf) msg).toString(StandardCharsets.UTF_8));
                        ((ByteBuf) msg).release();
                    }
                })).thenAccept(s -> s.channel().writeAndFlush(Unpooled.copiedBuffer("netty", StandardCharsets.UTF_8)));
        assertEquals("netty", got.get(10, TimeUnit.SECONDS));
    }

    @Test
    void unsupportedProtocolFailsTheStreamNotTheConnection() throws Exception {
        a = newHost();
        b = newHost();
        b.setBlockingHandler(ECHO, s -> s.inputStream().transferTo(s.outputStream()));
        Connection c = a.connect(fullAddr(b)).get(10, TimeUnit.SECONDS);
        assertThrows(ExecutionException.class, () -> c.newStream(List.of("/unknown/1")).get(10, TimeUnit.SECONDS));
        assertTrue(c.isOpen());
        assertEquals(ECHO, c.newStream(List.of(ECHO)).get(10, TimeUnit.SECONDS).protocol());
    }

    @Test
    void wrongPeerIdIsRefused() throws Exception {
        a = newHost();
        b = newHost();
        Multiaddr wrong = b.listenAddrs().get(0)
                .encapsulate(Multiaddr.parse("/p2p/" + Ed25519PrivateKey.generate().peerId().toBase58()));
        assertThrows(ExecutionException.class, () -> a.connect(wrong).get(10, TimeUnit.SECONDS));
        assertTrue(a.connections().isEmpty());
    }

    @Test
    void connectionsAreReusedAndEventsFire() throws Exception {
        a = newHost();
        b = newHost();
        CountDownLatch connected = new CountDownLatch(1);
        CountDownLatch disconnected = new CountDownLatch(1);
        b.addConnectionListener(new ConnectionListener() {
            @Override
            public void connected(Connection c) {
                connected.countDown();
            }

            @Override
            public void disconnected(Connection c) {
                disconnected.countDown();
            }
        });
        Connection c1 = a.connect(fullAddr(b)).get(10, TimeUnit.SECONDS);
        Connection c2 = a.connect(fullAddr(b)).get(10, TimeUnit.SECONDS);
        assertSame(c1, c2);
        assertSame(c1, a.connect(b.peerId()).get(10, TimeUnit.SECONDS));
        assertTrue(connected.await(5, TimeUnit.SECONDS));
        assertEquals(List.of(b.listenAddrs().get(0)), a.peerStore().addrs(b.peerId()));
        c1.close().get(5, TimeUnit.SECONDS);
        assertTrue(disconnected.await(5, TimeUnit.SECONDS));
        assertFalse(a.connection(b.peerId()).isPresent());
    }

    @Test
    void simultaneousDialsConvergeOnOneConnection() throws Exception {
        a = newHost();
        b = newHost();
        CompletableFuture<Connection> ab = a.connect(fullAddr(b));
        CompletableFuture<Connection> ba = b.connect(fullAddr(a));
        ab.get(10, TimeUnit.SECONDS);
        ba.get(10, TimeUnit.SECONDS);
        // Each side chooses among the connections it has registered; compare once both have registered
        // the same TCP connections (a side may still be upgrading the other's dial).
        Await.until(AWAIT, "both hosts hold the same TCP connections",
                () -> endpoints(a, false).equals(endpoints(b, true)));
        // Both sides must keep the same TCP connection.
        Connection keptByA = a.connection(b.peerId()).orElseThrow();
        Connection keptByB = b.connection(a.peerId()).orElseThrow();
        assertEquals(keptByA.localAddr(), keptByB.remoteAddr());
    }

    /** The (local, remote) address pairs of a host's connections, swapped to compare with the peer's view. */
    private static java.util.Set<List<String>> endpoints(Host h, boolean swapped) {
        java.util.Set<List<String>> out = new java.util.HashSet<>();
        for (Connection c : h.connections()) {
            if (c.isOpen()) {
                String l = c.localAddr().toString();
                String r = c.remoteAddr().toString();
                out.add(swapped ? List.of(r, l) : List.of(l, r));
            }
        }
        return out;
    }

    @Test
    void idleConnectionsAreClosedByTheTick() throws Exception {
        b = newHost();
        a = Host.builder(Ed25519PrivateKey.generate()).idleTimeout(Duration.ofMillis(300))
                .tick(Duration.ofMillis(100)).build().start();
        Connection c = a.connect(fullAddr(b)).get(10, TimeUnit.SECONDS);
        assertTrue(c.channel().closeFuture().await(5, TimeUnit.SECONDS), "idle connection closed");
    }

    @Test
    void unansweredKeepAliveClosesTheConnection() throws Exception {
        b = newHost();
        // 2 s: an answer slower than that on a loaded machine would count as a dead peer
        a = Host.builder(Ed25519PrivateKey.generate()).keepAlive(Duration.ofSeconds(2))
                .tick(Duration.ofMillis(50)).build().start();
        Connection c = a.connect(fullAddr(b)).get(10, TimeUnit.SECONDS);
        Await.until(AWAIT, "two keep-alive pings answered", () -> c.keepAlivesAnswered() >= 2 || !c.isOpen());
        assertTrue(c.isOpen(), "answered keep-alives keep the connection");
        // The peer stops reading: pings go unanswered.
        b.connection(a.peerId()).orElseThrow().channel().config().setAutoRead(false);
        assertTrue(c.channel().closeFuture().await(10, TimeUnit.SECONDS), "dead peer detected");
    }

    /**
     * Many identities from one address: each has its own peer id, so the per-peer cap does not bind
     * them; the per-address cap does, for inbound connections only, and frees its slot when one leaves.
     */
    @Test
    void inboundConnectionsFromOneAddressAreCappedWhateverTheirPeerIds() throws Exception {
        b = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .maxInboundConnectionsPerAddress(2).build().start();
        a = newHost();
        List<Host> sybils = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                sybils.add(newHost());
            }
            sybils.get(0).connect(fullAddr(b)).get(10, TimeUnit.SECONDS);
            sybils.get(1).connect(fullAddr(b)).get(10, TimeUnit.SECONDS);
            Connection refused = sybils.get(2).connect(fullAddr(b)).handle((c, e) -> c).get(10, TimeUnit.SECONDS);
            if (refused != null) {
                // the dialler may have registered it before b closed it
                assertTrue(refused.channel().closeFuture().await(10, TimeUnit.SECONDS));
            }
            assertEquals(2, b.connections().size(), "a third identity from 127.0.0.1 was refused");
            // b's own dial is its choice and does not count
            b.connect(fullAddr(a)).get(10, TimeUnit.SECONDS);
            assertEquals(3, b.connections().size());
            sybils.get(0).close();
            Await.until(Duration.ofSeconds(30), "b saw the first identity leave",
                    () -> b.connections().stream().noneMatch(c -> c.remotePeer().equals(sybils.get(0).peerId())));
            sybils.get(2).connect(fullAddr(b)).get(10, TimeUnit.SECONDS);
            // the dialler's side completes before b has registered the connection
            Await.until(Duration.ofSeconds(30), "b keeps the third identity's connection in the freed slot",
                    () -> b.connection(sybils.get(2).peerId()).isPresent());
        } finally {
            sybils.forEach(Host::close);
        }
        assertThrows(IllegalArgumentException.class,
                () -> Host.builder(Ed25519PrivateKey.generate()).maxInboundConnectionsPerAddress(0));
    }

    @Test
    void connectionLimitRefusesExtraConnections() throws Exception {
        b = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .maxConnections(1).build().start();
        a = newHost();
        try (Host third = newHost()) {
            a.connect(fullAddr(b)).get(10, TimeUnit.SECONDS);
            Connection refused = third.connect(fullAddr(b)).handle((c, e) -> c).get(10, TimeUnit.SECONDS);
            if (refused != null) {
                assertTrue(refused.channel().closeFuture().await(5, TimeUnit.SECONDS));
            }
            assertEquals(1, b.connections().size());
        }
    }

    @Test
    void muxerPingMeasuresRtt() throws Exception {
        a = newHost();
        b = newHost();
        Duration rtt = a.connect(fullAddr(b)).get(10, TimeUnit.SECONDS).ping().get(5, TimeUnit.SECONDS);
        assertTrue(rtt.toNanos() > 0);
    }
}
