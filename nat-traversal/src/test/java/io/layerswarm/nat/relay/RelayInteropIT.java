package io.layerswarm.nat.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.ping.Ping;
import io.layerswarm.testing.JsNode;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Circuit relay v2 against js-libp2p's {@code @libp2p/circuit-relay-v2} ({@code relay-peer.mjs}) in
 * both roles: a js relay serving our nodes, and our relay serving js nodes (js as target and as dialler).
 */
class RelayInteropIT {
    /** p2p-core's js interop directory: one pinned package-lock serves every module. */
    static final Path JS_DIR = Path.of("../p2p-core/src/test/js").toAbsolutePath().normalize();
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
        Identify.attach(h);
        Ping.attach(h);
        h.setBlockingHandler(RelayTest.ECHO, s -> s.inputStream().transferTo(s.outputStream()));
        RelayClient c = RelayClient.attach(h);
        open.add(c);
        return h;
    }

    private JsNode js() throws Exception {
        JsNode n = JsNode.start(JS_DIR, "relay-peer.mjs", "@libp2p/circuit-relay-v2");
        open.add(n);
        return n;
    }

    private static RelayClient clientOf(Host h, List<AutoCloseable> open) {
        for (AutoCloseable c : open) {
            if (c instanceof RelayClient rc && rc.host() == h) {
                return rc;
            }
        }
        throw new IllegalStateException("no relay client for " + h.peerId());
    }

    @Test
    void jsRelayServesOurNodes() throws Exception {
        JsNode relay = js();
        Host a = host();
        Host b = host();
        Multiaddr relayAddr = Multiaddr.parse(relay.listenAddr);
        Reservation r = clientOf(a, open).keepReservation(relayAddr).get(15, TimeUnit.SECONDS);
        assertTrue(r.expireEpochSeconds() > System.currentTimeMillis() / 1000, "unexpired reservation from the js relay");

        Connection c = b.connect(relayAddr.encapsulate(Multiaddr.parse("/p2p-circuit/p2p/" + a.peerId().toBase58())))
                .get(15, TimeUnit.SECONDS);
        assertTrue(c.isRelayed());
        assertEquals(a.peerId(), c.remotePeer());
        byte[] data = new byte[512 << 10];
        new Random(7).nextBytes(data);
        assertArrayEquals(sha(data), sha(RelayTest.echo(c, data)));
    }

    @Test
    void ourRelayServesJsNodes() throws Exception {
        Host relay = host();
        RelayService.attach(relay, RelayConfig.defaults());
        Multiaddr relayAddr = RelayTest.addr(relay);

        // js reserves on our relay; our node dials it through the relay.
        JsNode j = js();
        j.command("reserve " + relayAddr);
        String circuit = j.expect("reserved ", Duration.ofSeconds(20)).substring(9);
        assertTrue(circuit.contains(relay.peerId().toBase58() + "/p2p-circuit"), circuit);
        Host b = host();
        Connection c = b.connect(relayAddr.encapsulate(Multiaddr.parse("/p2p-circuit/p2p/" + j.peerId)))
                .get(15, TimeUnit.SECONDS);
        assertTrue(c.isRelayed());
        byte[] data = new byte[512 << 10];
        new Random(8).nextBytes(data);
        assertArrayEquals(sha(data), sha(RelayTest.echo(c, data)));

        // Our node reserves on our relay; js dials it through the relay.
        Host a = host();
        clientOf(a, open).keepReservation(relayAddr).get(15, TimeUnit.SECONDS);
        JsNode k = js();
        k.command("echo " + relayAddr + "/p2p-circuit/p2p/" + a.peerId().toBase58() + " 300000");
        assertEquals("echo-ok 300000 limited", k.expect("echo-ok ", Duration.ofSeconds(30)));
    }

    private static byte[] sha(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }
}
