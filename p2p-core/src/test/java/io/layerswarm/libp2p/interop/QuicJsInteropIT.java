package io.layerswarm.libp2p.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import io.layerswarm.libp2p.quic.QuicTransport;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /quic-v1} against js-libp2p 3 with {@code @chainsafe/libp2p-quic} ({@code echo-peer.mjs quic}), both ways. */
class QuicJsInteropIT {

    private static final String SCRIPT = "echo-peer.mjs";
    private static final String STACK = "quic";

    @BeforeAll
    static void install() throws Exception {
        JsPeer.ensureInstalled();
    }

    private static Host quicHost() throws Exception {
        Host h = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/udp/0/quic-v1"))
                .handshakeTimeout(Duration.ofSeconds(10)).build().start();
        Ping.attach(h);
        h.setBlockingHandler(JsPeer.ECHO, s -> s.inputStream().transferTo(s.outputStream()));
        return h;
    }

    @Test
    void javaDialsJsOverQuic() throws Exception {
        try (JsPeer js = JsPeer.listenWith(SCRIPT, STACK); Host h = quicHost()) {
            Multiaddr target = Multiaddr.parse(js.multiaddr);
            assertTrue(QuicTransport.isQuicAddr(target), target.toString());
            PeerId jsId = PeerId.parse(target.valueOf(MultiaddrProtocol.P2P).orElseThrow());
            Connection c = h.connect(target).get(15, TimeUnit.SECONDS);
            assertEquals(jsId, c.remotePeer());
            assertEquals(target.withoutPeerId(), c.remoteAddr());
            assertEquals(3, Ping.ping(c, 3).get(15, TimeUnit.SECONDS).size());
            byte[] data = new byte[200_000];
            new Random(3).nextBytes(data);
            P2pStream echo = c.newStream(List.of(JsPeer.ECHO)).get(15, TimeUnit.SECONDS);
            echo.outputStream().write(data);
            echo.outputStream().close();
            assertArrayEquals(data, echo.inputStream().readAllBytes(), "echo over a QUIC stream");
        }
    }

    @Test
    void jsDialsJavaOverQuic() throws Exception {
        try (Host h = quicHost()) {
            List<String> inbound = new CopyOnWriteArrayList<>();
            h.addConnectionListener(new ConnectionListener() {
                @Override
                public void connected(Connection c) {
                    inbound.add(c.remotePeer() + " " + c.remoteAddr());
                }
            });
            String addr = h.listenAddrs().get(0) + "/p2p/" + h.peerId().toBase58();
            List<String> out = JsPeer.dialWith(SCRIPT, addr, STACK);
            assertEquals("DONE", out.isEmpty() ? null : out.get(out.size() - 1), out.toString());
            String connected = out.stream().filter(l -> l.startsWith("CONNECTED ")).findFirst().orElseThrow();
            assertTrue(connected.startsWith("CONNECTED " + h.peerId().toBase58() + " " + addr + " "), connected);
            assertTrue(out.contains("ECHO ok"), out.toString());
            assertTrue(out.stream().anyMatch(l -> l.startsWith("PING ")), out.toString());
            assertEquals(1, inbound.size(), inbound.toString());
            assertTrue(inbound.get(0).contains("/quic-v1"), inbound.toString());
        }
    }
}
