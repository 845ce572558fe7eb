package io.layerswarm.daemon.p2p;

import io.layerswarm.testing.Closer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.daemon.CliRun;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.nat.relay.RelayClient;
import io.layerswarm.nat.relay.RelayConfig;
import io.layerswarm.nat.relay.RelayService;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code layerswarm p2p connect} against in-process hosts on loopback. */
class P2pConnectCommandTest {
    private final Closer open = new Closer();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    private Host host(boolean listen) throws Exception {
        Host.Builder b = Host.builder(Ed25519PrivateKey.generate()).ioThreads(1);
        if (listen) {
            b.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));
        }
        Host h = b.build().start();
        open.add(h);
        return h;
    }

    private static String addr(Host h) {
        return h.listenAddrs().get(0) + "/p2p/" + h.peerId().toBase58();
    }

    private static JsonNode json(CliRun run) throws Exception {
        assertEquals(0, run.status(), run.err());
        List<String> lines = run.out().lines().toList();
        assertEquals(1, lines.size(), run.out());
        return new ObjectMapper().readTree(lines.get(0));
    }

    @Test
    void directPeerIsReportedAsDirectTcp() throws Exception {
        Host peer = host(true);
        JsonNode n = json(CliRun.of("p2p", "connect", addr(peer)));
        assertEquals(peer.peerId().toBase58(), n.get("peer").asText());
        assertEquals("direct", n.get("path").asText());
        assertEquals("tcp", n.get("transport").asText());
        assertTrue(n.get("rttMs").isNumber() && n.get("rttMs").asDouble() >= 0, n.toString());
        assertTrue(n.get("connectMs").isNumber() && n.get("connectMs").asDouble() >= 0, n.toString());
    }

    @Test
    void peerBehindARelayIsReportedAsRelayed() throws Exception {
        Host relay = host(true);
        open.add(RelayService.attach(relay, RelayConfig.defaults()));
        Host nated = host(false); // dials out only, as behind a NAT
        RelayClient client = RelayClient.attach(nated);
        open.add(client);
        client.reserve(Multiaddr.parse(addr(relay))).get(10, TimeUnit.SECONDS);
        String circuit = addr(relay) + "/p2p-circuit/p2p/" + nated.peerId().toBase58();
        JsonNode n = json(CliRun.of("p2p", "connect", circuit, "--bootstrap", addr(relay)));
        assertEquals(nated.peerId().toBase58(), n.get("peer").asText());
        assertEquals("relayed", n.get("path").asText());
        assertTrue(n.get("rttMs").asDouble() >= 0, n.toString());
        assertTrue(n.get("holePunch") == null, "no --stun, no punching: " + n);

        // with --stun the relayed connection is followed by an ICE attempt; this peer does not speak the
        // exchange, so the connection stays relayed and the JSON says why (no candidate was gathered: the
        // protocol is negotiated first)
        JsonNode punched = json(CliRun.of("p2p", "connect", circuit, "--bootstrap", addr(relay), "--stun",
                "127.0.0.1:9"));
        assertEquals("relayed", punched.get("path").asText());
        assertTrue(punched.get("holePunch").asText().startsWith("failed: "), punched.toString());
    }

    @Test
    void badAddressesAreOneLineErrors() throws Exception {
        CliRun garbage = CliRun.of("p2p", "connect", "not-an-addr");
        assertEquals(2, garbage.status());
        assertTrue(garbage.err().startsWith("error: peer not-an-addr: not a multiaddr"), garbage.err());
        CliRun noPeer = CliRun.of("p2p", "connect", "/ip4/127.0.0.1/tcp/1");
        assertEquals(2, noPeer.status());
        assertTrue(noPeer.err().contains("needs a trailing /p2p/"), noPeer.err());
        Host peer = host(true);
        CliRun badBootstrap = CliRun.of("p2p", "connect", addr(peer), "--bootstrap", "/ip4/x");
        assertEquals(2, badBootstrap.status());
        assertTrue(badBootstrap.err().contains("bootstrap /ip4/x"), badBootstrap.err());
        CliRun badStun = CliRun.of("p2p", "connect", addr(peer), "--stun", "nohostport");
        assertEquals(2, badStun.status());
        assertTrue(badStun.err().contains("stun nohostport: expected HOST:PORT"), badStun.err());
        CliRun noUser = CliRun.of("p2p", "connect", addr(peer), "--turn", "127.0.0.1:3478");
        assertTrue(noUser.err().contains("needs turnUser (--turn-user)"), noUser.err());
        CliRun noFile = CliRun.of("p2p", "connect", addr(peer), "--turn", "127.0.0.1:3478", "--turn-user", "u",
                "--turn-password-file", "/nonexistent/turn.pw");
        assertTrue(noFile.err().contains("turn password file /nonexistent/turn.pw: not found"), noFile.err());
        // nothing listens on the peer's port any more: a clear failure, not a hang
        String gone = addr(peer);
        peer.close();
        CliRun refused = CliRun.of("p2p", "connect", gone, "--timeout", "5");
        assertEquals(1, refused.status());
        assertTrue(refused.err().startsWith("error: "), refused.err());
    }
}
