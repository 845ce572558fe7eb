package io.layerswarm.nat.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.nat.dcutr.Dcutr;
import io.layerswarm.nat.ice.IceMessage;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Coturn;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * NAT scenarios over real kernel NAT ({@link NatTopology}): nodes as separate JVMs in their namespaces,
 * a public relay + AutoNAT node and coturn (STUN) in the wan namespace. The wan side is started once for the
 * class ({@link NatWanPerClass}); each test gets two new edge clouds and new nodes ({@link NatClouds#pair}).
 */
class NatScenarioIT extends NatWanPerClass {
    /** The test's clouds, the relay, the two cloud nodes, A's address through the relay and coturn. */
    private record Clouds(NatClouds.Pair clouds, NatNode relay, NatNode a, NatNode b, String viaRelay, Coturn stun) {
        /** A's relay circuit address, without A's peer id. */
        String circuitA() {
            return viaRelay.substring(0, viaRelay.lastIndexOf("/p2p/"));
        }
    }

    /** Cloud 1 (cone) and cloud 2 (cone or symmetric), coturn and a relay in the wan; both nodes reserved. */
    private Clouds twoClouds(boolean symmetricB) throws Exception {
        return twoClouds(symmetricB, "node");
    }

    private Clouds twoClouds(boolean symmetricB, String roleB) throws Exception {
        NatClouds.Pair c = closer.add(net.pair(dir, NatClouds.Nat.CONE,
                symmetricB ? NatClouds.Nat.SYMMETRIC : NatClouds.Nat.CONE));
        NatNode[] n = c.both(() -> c.node(1, "node"), () -> c.node(2, roleB));
        String viaA = net.reserve(n[0], n[1])[0];
        return new Clouds(c, net.relay, n[0], n[1], viaA, net.stun);
    }

    @Test
    void conesPunchADirectQuicPathAndTheTransferTakesIt() throws Exception {
        Clouds n = twoClouds(false);
        NatNode a = n.a();
        NatNode b = n.b();
        String viaRelay = n.viaRelay();
        // B reaches A through the relay first, then punches over that connection.
        long small = 1L << 20;
        String first = b.ask("fetch " + a.peerId() + " " + small + " " + viaRelay, "fetched ", Duration.ofSeconds(120));
        assertTrue(first.startsWith("relayed tcp " + small + " "), first);
        String punched = b.ask("punch " + a.peerId(), "punch", Duration.ofSeconds(90));
        assertTrue(punched.startsWith("ed direct quic "), punched + "\n" + b.tail() + "\n--- A:\n" + a.tail());
        System.out.printf("nat scenario ice: cone/cone punched in %s ms%n", punched.substring("ed direct quic ".length()));
        // the relayed connection is dropped once idle: the direct one is all that remains, on both sides
        for (NatNode[] pair : new NatNode[][] {{a, b}, {b, a}}) {
            Await.until(Duration.ofSeconds(60), pair[0].peerId() + " keeps only the direct connection",
                    () -> pair[0].query("connections " + pair[1].peerId()).equals("connections direct:quic"));
        }

        // The same dial now finds the direct connection: the layer goes over the punched path.
        long size = 32L << 20;
        String[] f = b.ask("fetch " + a.peerId() + " " + size + " " + viaRelay, "fetched ", Duration.ofSeconds(120))
                .split(" ");
        assertEquals("direct", f[0]);
        assertEquals("quic", f[1]);
        assertEquals(Long.toString(size), f[2]);
        assertEquals(HexFormat.of().formatHex(NatNodeProcess.expectedSha(size)), f[3]);
        System.out.printf("nat scenario ice: %d MiB over the punched path in %s ms (%.1f Mbit/s)%n", size >> 20, f[5],
                size * 8 / 1e3 / Long.parseLong(f[5]));
        String log = Files.readString(b.log);
        assertTrue(log.contains("event=peer_connected peer=" + a.peerId() + " path=direct transport=quic rtt_ms="),
                b.tail());
        assertTrue(log.contains("event=peer_connected peer=" + a.peerId() + " path=relayed transport=tcp rtt_ms="),
                b.tail());
    }

    /** B fetches a little from A through the relay, so A holds the inbound relayed connection. */
    private static void relayedFirst(Clouds n) throws Exception {
        String first = n.b().ask("fetch " + n.a().peerId() + " 1024 " + n.viaRelay(), "fetched ", Duration.ofSeconds(120));
        assertTrue(first.startsWith("relayed tcp 1024 "), first);
    }

    /** B fetches {@code size} bytes from A (dialling its relay address, which an existing connection stands in for). */
    private static String[] fetchChecked(Clouds n, long size) throws Exception {
        String[] f = n.b().ask("fetch " + n.a().peerId() + " " + size + " " + n.viaRelay(), "fetched ",
                Duration.ofSeconds(120)).split(" ");
        assertEquals(Long.toString(size), f[2]);
        assertEquals(HexFormat.of().formatHex(NatNodeProcess.expectedSha(size)), f[3]);
        return f;
    }

    @Test
    void conesGoDirectOverTcpWithDcutr() throws Exception {
        Clouds n = twoClouds(false);
        NatNode a = n.a();
        NatNode b = n.b();
        // B reaches A through the relay, so A holds the inbound relayed connection and starts DCUtR (the spec's B):
        // both dial from their session's punch port, the routers' conntrack pairs the crossing SYNs (each router
        // drops the other's SYN that comes before its own node's), one TCP connection where both dialled
        relayedFirst(n);
        String upgraded = a.ask("dcutr " + b.peerId(), "dcutr", Duration.ofSeconds(90));
        assertTrue(upgraded.startsWith(" direct tcp "), upgraded + "\n" + a.tail() + "\n--- B:\n" + b.tail());
        System.out.printf("nat scenario dcutr: cone/cone direct over TCP in %s ms%n",
                upgraded.substring(" direct tcp ".length()));
        for (NatNode[] pair : new NatNode[][] {{a, b}, {b, a}}) {
            Await.until(Duration.ofSeconds(60), pair[0].peerId() + " keeps only the direct connection",
                    () -> pair[0].query("connections " + pair[1].peerId()).equals("connections direct:tcp"));
        }
        String[] f = fetchChecked(n, 8L << 20);
        assertEquals("direct", f[0]);
        assertEquals("tcp", f[1]);
        // over the punch ports: B's listen port is behind its NAT, which admits no dial there
        String log = Files.readString(a.log);
        String direct = log.substring(log.indexOf("event=dcutr_direct peer=" + b.peerId() + " role=initiator"));
        String remote = direct.substring(direct.indexOf("remote=") + 7).split("\\s")[0];
        assertTrue(remote.startsWith("/ip4/") && !remote.endsWith("/tcp/4001"), direct.split("\n")[0]);
    }

    @Test
    void dcutrFailsAgainstASymmetricNatAndTheTransferStaysOnTheRelay() throws Exception {
        Clouds n = twoClouds(true);
        NatNode a = n.a();
        NatNode b = n.b();
        relayedFirst(n);
        String upgraded = a.ask("dcutr " + b.peerId(), "dcutr", Duration.ofSeconds(90));
        assertTrue(upgraded.startsWith("_failed ") && upgraded.contains(Dcutr.MAX_ROUNDS + " DCUtR rounds"), upgraded);
        assertEquals("relayed", fetchChecked(n, 1L << 20)[0]);
    }

    @Test
    void theNatTraversalServicePunchesByItselfAfterARelayedDial() throws Exception {
        Clouds n = twoClouds(false, "service");
        NatNode a = n.a();
        NatNode b = n.b();
        // B's first dial goes through the relay; its NatTraversalService then punches on its own and the
        // direct connection replaces the relayed one, which is dropped.
        String first = b.ask("fetch " + a.peerId() + " 1024 " + n.viaRelay(), "fetched ", Duration.ofSeconds(120));
        assertTrue(first.startsWith("relayed tcp 1024 "), first);
        Await.until(Duration.ofSeconds(60), "B keeps only the punched connection",
                () -> b.query("connections " + a.peerId()).equals("connections direct:quic"));
        long size = 8L << 20;
        String[] f = b.ask("fetch " + a.peerId() + " " + size + " " + n.viaRelay(), "fetched ", Duration.ofSeconds(120))
                .split(" ");
        assertEquals("direct", f[0]);
        assertEquals("quic", f[1]);
        assertEquals(HexFormat.of().formatHex(NatNodeProcess.expectedSha(size)), f[3]);
        assertTrue(b.logContains("event=peer_connected peer=" + a.peerId() + " path=direct transport=quic rtt_ms="),
                b.tail());
    }

    @Test
    void punchingFailsAgainstASymmetricNatAndTheTransferStaysOnTheRelay() throws Exception {
        Clouds n = twoClouds(true);
        NatNode a = n.a();
        NatNode b = n.b();
        String viaRelay = n.viaRelay();
        String first = b.ask("fetch " + a.peerId() + " 1024 " + viaRelay, "fetched ", Duration.ofSeconds(120));
        assertTrue(first.startsWith("relayed tcp 1024 "), first);
        String punched = b.ask("punch " + a.peerId(), "punch", Duration.ofSeconds(90));
        assertTrue(punched.startsWith("_failed "), punched);
        long size = 8L << 20;
        String[] f = b.ask("fetch " + a.peerId() + " " + size + " " + viaRelay, "fetched ", Duration.ofSeconds(120))
                .split(" ");
        assertEquals("relayed", f[0]);
        assertEquals("tcp", f[1]);
        assertEquals(HexFormat.of().formatHex(NatNodeProcess.expectedSha(size)), f[3]);
        assertTrue(Files.readString(a.log).contains("event=ice_failed peer=" + b.peerId()), a.tail());
    }

    @Test
    void aPeerCannotTurnTheChecksIntoAFloodOnAThirdParty() throws Exception {
        Clouds n = twoClouds(false);
        NatNode a = n.a();
        NatNode b = n.b();
        NatNode thirdParty = n.relay();
        thirdParty.ask("sink 9000", "sinking", Duration.ofSeconds(30));
        b.ask("fetch " + a.peerId() + " 1024 " + n.viaRelay(), "fetched ", Duration.ofSeconds(120));
        // B offers the third party's 8 ports as its candidates and then stays silent.
        String answered = b.ask("offer " + a.peerId() + " " + NatTopology.WAN_IP + " 9000", "answered ",
                Duration.ofSeconds(60));
        assertTrue(Integer.parseInt(answered) >= 1, answered);
        Await.until(Duration.ofSeconds(60), "A gave up the hostile session",
                () -> a.logContains("event=ice_failed peer=" + b.peerId() + " role=controlled"));
        String[] sunk = thirdParty.ask("sunk", "sunk ", Duration.ofSeconds(30)).split(" ");
        int datagrams = Integer.parseInt(sunk[0]);
        int signed = Integer.parseInt(sunk[1]);
        System.out.printf("ice third party: %d datagrams, %d signed checks%n", datagrams, signed);
        // Checks did go out (so the bound below is tested), each signed with the session's credentials, and no
        // more than a few retransmissions per offered candidate.
        assertTrue(datagrams > 0, "no check reached the offered candidates: the test shows nothing");
        assertEquals(datagrams, signed, "every datagram is a signed connectivity check");
        assertTrue(datagrams <= IceMessage.MAX_CANDIDATES * 10, datagrams + " datagrams");
        assertTrue(a.process.isAlive());
    }

    @Test
    void symmetricNatFallsBackToTheRelayAndSaysSo() throws Exception {
        Clouds n = twoClouds(true);
        NatNode relay = n.relay();
        NatNode a = n.a();
        NatNode b = n.b();
        String circuitA = n.circuitA();
        assertTrue(circuitA.startsWith(relay.addr + "/p2p-circuit"), circuitA);

        // Behind NAT with inbound connections dropped: AutoNAT cannot dial A back at the address STUN reports (its
        // router's), so A advertises its relay circuit only.
        String reach = a.ask("reachability " + relay.peerId() + " " + NatTopology.WAN_IP + ":3478", "reachability ",
                Duration.ofSeconds(150));
        assertEquals("PRIVATE [" + circuitA + "]", reach, a.tail());

        // B tries A's NAT address first (the router drops it), then the relay.
        long size = 32L << 20;
        String natAddrA = "/ip4/" + n.clouds().routerIp(1) + "/tcp/4001/p2p/" + a.peerId();
        String fetched = b.ask("fetch " + a.peerId() + " " + size + " " + natAddrA + " " + circuitA + "/p2p/"
                + a.peerId(), "fetched ", Duration.ofSeconds(240));
        String[] f = fetched.split(" ");
        assertEquals("relayed", f[0]);
        assertEquals("tcp", f[1]);
        assertEquals(Long.toString(size), f[2]);
        assertEquals(HexFormat.of().formatHex(NatNodeProcess.expectedSha(size)), f[3]);
        System.out.printf("nat scenario 2: %d MiB over the relay in %s ms (%.1f Mbit/s), connect %s ms%n", size >> 20,
                f[5], size * 8 / 1e3 / Long.parseLong(f[5]), f[4]);
        String log = Files.readString(b.log);
        assertTrue(log.contains("event=dial_failed addr=" + natAddrA), b.tail());
        assertTrue(log.contains("event=peer_connected peer=" + a.peerId() + " path=relayed transport=tcp rtt_ms="),
                b.tail());
        assertTrue(n.stun().isAlive());
    }
}
