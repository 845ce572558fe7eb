package io.layerswarm.libp2p.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.ping.Ping;
import io.layerswarm.libp2p.tls.TlsSecurity;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code /tls/1.0.0} + Yamux against js-libp2p 3 with {@code @libp2p/tls} ({@code echo-peer.mjs tls}), both ways, on
 * the default engine (BoringSSL here) and on the JDK's.
 */
class TlsJsInteropIT {

    private static final String SCRIPT = "echo-peer.mjs";
    private static final String STACK = "tls";

    @BeforeAll
    static void install() throws Exception {
        JsPeer.ensureInstalled();
    }

    private static Host tlsOnlyHost(TlsSecurity.Engine engine) throws Exception {
        Host h = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .security(List.of(TlsSecurity.PROTOCOL_ID)).tlsEngine(engine).handshakeTimeout(Duration.ofSeconds(5))
                .build().start();
        Ping.attach(h);
        h.setBlockingHandler(JsPeer.ECHO, s -> s.inputStream().transferTo(s.outputStream()));
        return h;
    }

    @ParameterizedTest
    @EnumSource(value = TlsSecurity.Engine.class, names = {"AUTO", "JDK"})
    void javaDialsJsOverTls(TlsSecurity.Engine engine) throws Exception {
        try (JsPeer js = JsPeer.listenWith(SCRIPT, STACK); Host h = tlsOnlyHost(engine)) {
            Multiaddr target = Multiaddr.parse(js.multiaddr);
            PeerId jsId = PeerId.parse(target.valueOf(MultiaddrProtocol.P2P).orElseThrow());
            Connection c = h.connect(target).get(15, TimeUnit.SECONDS);
            assertEquals(jsId, c.remotePeer());
            assertEquals(TlsSecurity.PROTOCOL_ID, c.securityProtocol());
            assertEquals(3, Ping.ping(c, 3).get(15, TimeUnit.SECONDS).size());
            byte[] data = new byte[200_000];
            new Random(3).nextBytes(data);
            P2pStream echo = c.newStream(List.of(JsPeer.ECHO)).get(15, TimeUnit.SECONDS);
            echo.outputStream().write(data);
            echo.outputStream().close();
            assertTrue(java.util.Arrays.equals(data, echo.inputStream().readAllBytes()), "echo over TLS+Yamux");
        }
    }

    @ParameterizedTest
    @EnumSource(value = TlsSecurity.Engine.class, names = {"AUTO", "JDK"})
    void jsDialsJavaOverTls(TlsSecurity.Engine engine) throws Exception {
        try (Host h = tlsOnlyHost(engine)) {
            List<String> inbound = new CopyOnWriteArrayList<>();
            h.addConnectionListener(new ConnectionListener() {
                @Override
                public void connected(Connection c) {
                    inbound.add(c.remotePeer() + " " + c.securityProtocol());
                }
            });
            String addr = h.listenAddrs().get(0) + "/p2p/" + h.peerId().toBase58();
            List<String> out = JsPeer.dialWith(SCRIPT, addr, STACK);
            assertEquals("DONE", out.isEmpty() ? null : out.get(out.size() - 1), out.toString());
            String connected = out.stream().filter(l -> l.startsWith("CONNECTED ")).findFirst().orElseThrow();
            assertTrue(connected.startsWith("CONNECTED " + h.peerId().toBase58() + " ")
                    && connected.endsWith(" /tls/1.0.0 /yamux/1.0.0"), connected);
            assertTrue(out.contains("ECHO ok"), out.toString());
            assertEquals(1, inbound.size(), inbound.toString());
            assertTrue(inbound.get(0).endsWith(" " + TlsSecurity.PROTOCOL_ID), inbound.toString());
        }
    }
}
