package io.layerswarm.libp2p.security;

import static io.layerswarm.libp2p.security.SecurityUpgraderTest.GROUP;
import static io.layerswarm.libp2p.security.SecurityUpgraderTest.dial;
import static io.layerswarm.libp2p.security.SecurityUpgraderTest.server;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerIdMismatchException;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.multistream.MultistreamSelect;
import io.layerswarm.libp2p.noise.NoiseSecurity;
import io.layerswarm.libp2p.security.SecurityUpgraderTest.Collect;
import io.layerswarm.libp2p.security.SecurityUpgraderTest.Dialled;
import io.layerswarm.libp2p.security.SecurityUpgraderTest.Server;
import io.layerswarm.libp2p.tls.Libp2pCertificates;
import io.layerswarm.libp2p.tls.TestCertificates;
import io.layerswarm.libp2p.tls.TlsException;
import io.layerswarm.libp2p.tls.TlsSecurity;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.Future;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The security phase with {@code /tls/1.0.0}: negotiation, handshake, and rejection of bad peers, on the
 * engine {@link TlsSecurity.Engine#AUTO} picks ({@link TlsUpgradeJdkEngineTest} runs the same on the JDK's).
 */
class TlsUpgradeTest {

    private static final List<String> TLS_ONLY = List.of(TlsSecurity.PROTOCOL_ID);

    /** The engine under test. */
    TlsSecurity.Engine engine() {
        return TlsSecurity.Engine.AUTO;
    }

    private SecurityUpgrader tlsOnly(Ed25519PrivateKey key) {
        return new SecurityUpgrader(key).withTls(new TlsSecurity(key, engine())).withProtocols(TLS_ONLY);
    }

    @Test
    void autoPicksBoringSslWhereItLoadsAndTheJdkOtherwise() {
        Ed25519PrivateKey key = Ed25519PrivateKey.generate();
        TlsSecurity auto = new TlsSecurity(key);
        assertEquals(TlsSecurity.openSslAvailable() ? TlsSecurity.Engine.OPENSSL : TlsSecurity.Engine.JDK,
                auto.engine());
        assertEquals(TlsSecurity.Engine.JDK, new TlsSecurity(key, TlsSecurity.Engine.JDK).engine());
        // The daemon ships natives for linux x86_64 and aarch64: there AUTO must not fall back silently.
        String arch = System.getProperty("os.arch");
        if (System.getProperty("os.name").startsWith("Linux") && (arch.equals("amd64") || arch.equals("aarch64"))) {
            assertEquals(TlsSecurity.Engine.OPENSSL, auto.engine(), "BoringSSL should load on " + arch + ": "
                    + io.netty.handler.ssl.OpenSsl.unavailabilityCause());
        }
    }

    @Test
    void tlsHandshakeAuthenticatesBothSidesAndCarriesData() throws Exception {
        Ed25519PrivateKey serverKey = Ed25519PrivateKey.generate();
        Ed25519PrivateKey clientKey = Ed25519PrivateKey.generate();
        Server server = server(tlsOnly(serverKey));
        try {
            byte[] data = new byte[300_000];
            new Random(4).nextBytes(data);
            Collect collect = new Collect(data.length);
            Dialled d = dial(server.port(), tlsOnly(clientKey), serverKey.peerId(), collect);
            SecureSession session = d.session().get(10, TimeUnit.SECONDS);
            assertEquals(TlsSecurity.PROTOCOL_ID, session.protocol());
            assertEquals(serverKey.peerId(), session.remotePeerId());
            assertEquals(clientKey.peerId(), server.session().get(10, TimeUnit.SECONDS).remotePeerId());
            d.channel().writeAndFlush(Unpooled.wrappedBuffer(data));
            assertArrayEquals(data, collect.done.get(10, TimeUnit.SECONDS));
            d.channel().close().sync();
        } finally {
            server.channel().close().sync();
        }
    }

    @Test
    void initiatorPreferenceDecidesAndResponderAcceptsEither() throws Exception {
        Ed25519PrivateKey serverKey = Ed25519PrivateKey.generate();
        Server server = server(new SecurityUpgrader(serverKey)
                .withProtocols(List.of(NoiseSecurity.PROTOCOL_ID, TlsSecurity.PROTOCOL_ID)));
        try {
            SecureSession tls = dial(server.port(), new SecurityUpgrader(Ed25519PrivateKey.generate())
                    .withProtocols(List.of(TlsSecurity.PROTOCOL_ID, NoiseSecurity.PROTOCOL_ID)), serverKey.peerId(),
                    null).session().get(10, TimeUnit.SECONDS);
            assertEquals(TlsSecurity.PROTOCOL_ID, tls.protocol());
            SecureSession noise = dial(server.port(), new SecurityUpgrader(Ed25519PrivateKey.generate()),
                    serverKey.peerId(), null).session().get(10, TimeUnit.SECONDS);
            assertEquals(NoiseSecurity.PROTOCOL_ID, noise.protocol());
        } finally {
            server.channel().close().sync();
        }
        Server noiseOnly = server(new SecurityUpgrader(serverKey));
        try {
            SecureSession fallback = dial(noiseOnly.port(), new SecurityUpgrader(Ed25519PrivateKey.generate())
                    .withProtocols(List.of(TlsSecurity.PROTOCOL_ID, NoiseSecurity.PROTOCOL_ID)), serverKey.peerId(),
                    null).session().get(10, TimeUnit.SECONDS);
            assertEquals(NoiseSecurity.PROTOCOL_ID, fallback.protocol());
        } finally {
            noiseOnly.channel().close().sync();
        }
    }

    @Test
    void unknownProtocolIsRefusedAtConfiguration() {
        SecurityUpgrader u = new SecurityUpgrader(Ed25519PrivateKey.generate());
        assertThrows(IllegalArgumentException.class, () -> u.withProtocols(List.of("/tls/2.0.0")));
        assertThrows(IllegalArgumentException.class, () -> u.withProtocols(List.of()));
    }

    @Test
    void wrongPeerIdIsRejected() throws Exception {
        Server server = server(tlsOnly(Ed25519PrivateKey.generate()));
        try {
            PeerId other = Ed25519PrivateKey.generate().peerId();
            Dialled d = dial(server.port(), tlsOnly(Ed25519PrivateKey.generate()), other, null);
            Future<SecureSession> f = d.session();
            assertTrue(f.await(10, TimeUnit.SECONDS));
            PeerIdMismatchException e = assertInstanceOf(PeerIdMismatchException.class, f.cause());
            assertTrue(e.getMessage().startsWith("TLS: "), e.getMessage());
            assertEquals(other, e.expected());
            assertTrue(d.channel().closeFuture().await(5, TimeUnit.SECONDS));
        } finally {
            server.channel().close().sync();
        }
    }

    @Test
    void serverCertificateWithoutExtensionIsRejected() throws Exception {
        assertBadServerCertificateRejected(TestCertificates.withoutExtension());
    }

    @Test
    void serverCertificateWithBadSignatureIsRejected() throws Exception {
        assertBadServerCertificateRejected(TestCertificates.badSignature(Ed25519PrivateKey.generate()));
    }

    private void assertBadServerCertificateRejected(Libp2pCertificates.CertifiedKey bad) throws Exception {
        Ed25519PrivateKey serverKey = Ed25519PrivateKey.generate();
        Server server = server(tlsOnly(serverKey).withTls(new TlsSecurity(serverKey, bad, engine())));
        try {
            Dialled d = dial(server.port(), tlsOnly(Ed25519PrivateKey.generate()), serverKey.peerId(), null);
            assertTrue(d.session().await(10, TimeUnit.SECONDS));
            assertInstanceOf(TlsException.class, d.session().cause());
            assertTrue(d.channel().closeFuture().await(5, TimeUnit.SECONDS));
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> server.session().get(10, TimeUnit.SECONDS));
            assertInstanceOf(TlsException.class, e.getCause());
        } finally {
            server.channel().close().sync();
        }
    }

    @Test
    void clientCertificateWithoutExtensionIsRejectedByTheServer() throws Exception {
        Server server = server(tlsOnly(Ed25519PrivateKey.generate()));
        try {
            Ed25519PrivateKey clientKey = Ed25519PrivateKey.generate();
            Dialled d = dial(server.port(), tlsOnly(clientKey).withTls(
                    new TlsSecurity(clientKey, TestCertificates.withoutExtension(), engine())), null, null);
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> server.session().get(10, TimeUnit.SECONDS));
            assertInstanceOf(TlsException.class, e.getCause());
            // TLS 1.3: the client finishes before the server has checked its certificate, so the
            // client may see success first; the server's alert then closes the connection.
            assertTrue(d.channel().closeFuture().await(5, TimeUnit.SECONDS), "rejected client is disconnected");
        } finally {
            server.channel().close().sync();
        }
    }

    @Test
    void garbageInsteadOfClientHelloClosesCleanly() throws Exception {
        Server server = server(tlsOnly(Ed25519PrivateKey.generate()));
        try {
            byte[] junk = new byte[4096];
            new Random(9).nextBytes(junk);
            Channel ch = new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            // Negotiate /tls/1.0.0 honestly, then send random bytes instead of a ClientHello.
                            MultistreamSelect.initiate(c.pipeline(), TLS_ONLY,
                                    (anchor, p) -> anchor.channel().writeAndFlush(Unpooled.wrappedBuffer(junk)));
                            c.pipeline().addLast(new ChannelInboundHandlerAdapter());
                        }
                    }).connect("127.0.0.1", server.port()).sync().channel();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> server.session().get(10, TimeUnit.SECONDS));
            assertInstanceOf(TlsException.class, e.getCause());
            assertTrue(ch.closeFuture().await(5, TimeUnit.SECONDS), "server closed the connection");
        } finally {
            server.channel().close().sync();
        }
    }
}
