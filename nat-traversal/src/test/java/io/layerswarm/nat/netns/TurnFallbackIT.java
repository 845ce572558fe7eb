package io.layerswarm.nat.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Coturn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TURN fallback over real kernel NAT: both clouds behind symmetric NATs ({@code MASQUERADE --random-fully}), so
 * no direct pair works; coturn (STUN + TURN with a test user) and a public relay node in the wan namespace. The
 * nodes meet over the relay circuit, ICE nominates a pair through coturn and a QUIC connection runs over it.
 * Namespaces are {@code lst<pid>...}, its own, apart from {@link NatClouds}' {@code lsn<pid>...}.
 */
@Tag("root")
class TurnFallbackIT {
    private static final String USER = "swarm";
    private static final String PASSWORD = "turn-test-secret";

    @TempDir
    Path tmp;

    private final Closer closer = new Closer();

    @AfterEach
    void cleanUp() throws Exception {
        closer.close();
    }

    @Test
    void symmetricNatsOnBothSidesConnectThroughTurnAndALayerCrossesIt() throws Exception {
        NatTopology net = closer.add(NatTopology.create("lst"));
        String cloudA = net.cloud(1, true, "200mbit").node();
        String cloudB = net.cloud(2, true, "200mbit").node();
        // As on the internet, the wan routes everywhere: coturn closes an allocation whose relay socket gets a send
        // error (ENETUNREACH for the peers' private host candidates without a route), a lost datagram does not.
        NatTopology.sh("ip", "netns", "exec", net.wan, "ip", "route", "add", "default", "dev", "br0");
        String wanAddr = NatTopology.WAN_IP + ":3478";
        Coturn coturn = closer.add(Coturn.start(List.of("ip", "netns", "exec", net.wan), NatTopology.WAN_IP, 3478,
                USER + ":" + PASSWORD));
        Path password = Files.writeString(tmp.resolve("turn.password"), PASSWORD + "\n");
        List<String> turnArgs = List.of(wanAddr, wanAddr, USER, password.toString());
        // the three JVMs start at once: their start-up is most of this test's time
        CompletableFuture<NatNode> relayF = start(net.wan, "relay", NatTopology.WAN_IP, List.of());
        CompletableFuture<NatNode> aF = start(cloudA, "turn", "10.214.1.10", turnArgs);
        CompletableFuture<NatNode> bF = start(cloudB, "turn", "10.214.2.10", turnArgs);
        NatNode relay = relayF.join();
        NatNode a = aF.join();
        NatNode b = bF.join();

        String viaRelay = a.ask("reserve " + relay.addr, "reserved ", Duration.ofSeconds(60)) + "/p2p/" + a.peerId();
        String first = b.ask("fetch " + a.peerId() + " 1024 " + viaRelay, "fetched ", Duration.ofSeconds(60));
        assertTrue(first.startsWith("relayed tcp 1024 "), first);

        String punched = b.ask("punch " + a.peerId(), "punch", Duration.ofSeconds(60));
        assertTrue(punched.startsWith("ed relayed quic "), punched + "\n" + b.tail() + "\n--- A:\n" + a.tail()
                + "\n--- coturn:\n" + coturn.logText());
        System.out.printf("turn fallback: symmetric/symmetric connected through TURN in %s ms%n",
                punched.substring("ed relayed quic ".length()));

        // The same dial finds the TURN connection (preferred to the circuit): the layer goes through coturn.
        long relayedBefore = Long.parseLong(relay.ask("relayed", "relayed ", Duration.ofSeconds(30)));
        long size = 8L << 20;
        String[] f = b.ask("fetch " + a.peerId() + " " + size + " " + viaRelay, "fetched ", Duration.ofSeconds(60))
                .split(" ");
        assertEquals("relayed", f[0]);
        assertEquals("quic", f[1]);
        assertEquals(Long.toString(size), f[2]);
        assertEquals(HexFormat.of().formatHex(NatNodeProcess.expectedSha(size)), f[3]);
        long relayedAfter = Long.parseLong(relay.ask("relayed", "relayed ", Duration.ofSeconds(30)));
        assertTrue(relayedAfter - relayedBefore < size / 10, "the circuit relay carried "
                + (relayedAfter - relayedBefore) + " bytes of the layer");
        System.out.printf("turn fallback: %d MiB through TURN in %s ms (%.1f Mbit/s)%n", size >> 20, f[5],
                size * 8 / 1e3 / Long.parseLong(f[5]));
        assertTrue(b.logContains("event=ice_turn peer=" + a.peerId() + " role=controlling"), b.tail());
        assertTrue(a.logContains("event=ice_turn peer=" + b.peerId() + " role=controlled"), a.tail());
        assertTrue(b.logContains("event=peer_connected peer=" + a.peerId() + " path=relayed transport=quic rtt_ms="),
                b.tail());
        assertTrue(b.logContains(" relay=turn"), b.tail());
        // ice4j's records went through SLF4J (Ice4jLogging), not JUL's console handler
        assertTrue(b.logContains("Selected pair for stream"), b.tail());
        assertFalse(b.logContains("org.jitsi.utils.logging2.LoggerImpl log"), b.tail());
    }

    private CompletableFuture<NatNode> start(String ns, String role, String ip, List<String> extra) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return closer.add(new NatNode(tmp, ns, role, ip, extra));
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
    }
}
