package io.layerswarm.nat.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.nat.netns.NatClouds.Nat;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.RegistryFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cross-cloud scenarios with real parts ({@link NatClouds}): the docker-registry in the wan
 * namespace, in each edge cloud a whole node (pull-through mirror, swarm, NAT traversal service keeping a
 * reservation on the public relay) as its own JVM, and skopeo pulling through a cloud's mirror. Bytes the
 * registry sent come from its access log, bytes the relay forwarded from the relay node. The wan side (registry
 * with the images, coturn, relay) is started once for the class; each test gets two new edge clouds and new nodes.
 * Scenario 3 (both clouds pull at once) runs at the end of scenarios 1 and 2, with a second image, on the clouds
 * and connections they set up: over the punched path and over the relay.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES) // several JVMs start and pull in each test; slow on a loaded machine
class CrossCloudPullIT extends NatWanPerClass {
    private static final String REPO = "edge/app";
    private static final String TAG = "1";
    /** A second image (other layers) for both clouds to pull at once, after the first scenario's pulls. */
    private static final String TAG_TOGETHER = "2";
    private static final int LAYERS = 4;
    private static final int LAYER_BYTES = 1 << 20;
    private static final Duration PULL_TIMEOUT = Duration.ofMinutes(3);

    private RegistryFixture registry;
    private long imageBytes;
    private long togetherBytes;

    /** The registry with the images, once for the class: no test alters them (pulls only read). */
    @Override
    void wanStarted() throws Exception {
        registry = net.registry();
        imageBytes = net.pushImage(REPO, TAG, LAYERS, LAYER_BYTES);
        togetherBytes = net.pushImage(REPO, TAG_TOGETHER, LAYERS, LAYER_BYTES, 8);
    }

    /** The test's clouds with a mirror node in each, both reserved on the relay. */
    private record Edge(NatClouds net, NatClouds.Pair clouds, Path dir, RegistryFixture registry, long imageBytes,
                        NatNode a, NatNode b, String viaRelayA) {
        /** Registry blob bytes sent so far. */
        long served() {
            return registry.totalBlobBytesServed();
        }

        /** Bytes the relay forwarded over circuits so far. */
        long relayed() throws Exception {
            return Long.parseLong(net.relay.ask("relayed", "relayed ", Duration.ofSeconds(30)));
        }
    }

    private Edge edge(Nat natA, Nat natB, Path test) throws Exception {
        NatClouds.Pair c = closer.add(net.pair(dir, natA, natB));
        NatNode[] n = c.both(() -> c.mirrorNode(1, test.resolve("store-a")),
                () -> c.mirrorNode(2, test.resolve("store-b")));
        String viaRelayA = net.circuit(n[0]);
        net.circuit(n[1]);
        return new Edge(net, c, test, registry, imageBytes, n[0], n[1], viaRelayA);
    }

    /** B dials A through the relay, as a node does for a peer behind NAT. */
    private static void connectThroughRelay(Edge e) throws Exception {
        String connected = e.b().ask("connect " + e.viaRelayA(), "connected ", Duration.ofSeconds(90));
        assertTrue(connected.startsWith("relayed tcp"), connected);
    }

    /** B's NAT traversal service punches by itself after the relayed dial; only the direct QUIC path remains. */
    private static void awaitDirect(Edge e) throws InterruptedException {
        Await.until(Duration.ofSeconds(90), "B keeps only a punched connection to A",
                () -> e.b().query("connections " + e.a().peerId()).equals("connections direct:quic"));
    }

    /** Pulls {@code tag} through cloud {@code n}'s mirror with skopeo; {@link #awaitPull} checks it. */
    private static Process startPull(Edge e, int n, String tag, Path out) throws Exception {
        return e.clouds().pullThroughMirror(n, REPO, tag, out);
    }

    private static void awaitPull(Process p, NatNode node) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(PULL_TIMEOUT.toSeconds(), TimeUnit.SECONDS), "skopeo still running: " + out);
        assertEquals(0, p.exitValue(), "skopeo through the mirror: " + out + "\n--- node:\n" + node.tail());
    }

    private void pull(Edge e, int n) throws Exception {
        awaitPull(startPull(e, n, TAG, e.dir().resolve("layout-" + n)), n == 1 ? e.a() : e.b());
    }

    /** "COUNT PEER-BYTES REGISTRY-BYTES" of the blobs the node fetched. */
    private static long[] blobs(NatNode node) throws Exception {
        String[] f = node.ask("blobs", "blobs ", Duration.ofSeconds(30)).split(" ");
        return new long[] {Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])};
    }

    /** B's {@code event=blob_path} lines that name A with this path and transport. */
    private static long blobPathLines(Edge e, String path, String transport) throws Exception {
        String line = "peer=" + e.a().peerId() + " path=" + path + " transport=" + transport + " bytes=";
        return Files.readAllLines(e.b().log).stream().filter(l -> l.contains("event=blob_path") && l.contains(line))
                .count();
    }

    /**
     * A has pulled the image and B is connected to A: B pulls it through its mirror, and every blob byte comes from
     * A, none from the registry. Returns the bytes the relay forwarded meanwhile.
     */
    private long pullInBFromA(Edge e, String scenario) throws Exception {
        long[] fetchedA = blobs(e.a());
        long servedBefore = e.served();
        long relayedBefore = e.relayed();
        pull(e, 2);
        long[] fetchedB = blobs(e.b());
        long relayedForB = e.relayed() - relayedBefore;
        System.out.printf("nat scenario %s: image %d blob bytes; B got %d from peers, %d from the registry; "
                + "registry sent %d for B; relay forwarded %d meanwhile%n", scenario, e.imageBytes(), fetchedB[1],
                fetchedB[2], e.served() - servedBefore, relayedForB);
        assertEquals(0, e.served() - servedBefore, "registry blob bytes for B");
        assertEquals(fetchedA[0], fetchedB[0], "B fetched every blob A fetched");
        assertEquals(e.imageBytes(), fetchedB[1], "every blob byte came from a peer");
        assertEquals(0, fetchedB[2]);
        return relayedForB;
    }

    @Test
    void cloudBPullsEveryLayerFromCloudAOverThePunchedPathAndBothPullingAtOnceCostOneImage(@TempDir Path tmp) throws Exception {
        Edge e = edge(Nat.CONE, Nat.CONE, tmp);
        pull(e, 1);
        assertEquals(e.imageBytes(), blobs(e.a())[2], "A, alone, got the image from the registry");
        connectThroughRelay(e);
        awaitDirect(e);

        long relayed = pullInBFromA(e, "1");
        assertTrue(relayed < e.imageBytes() / 10, "layer data crossed the relay: " + relayed);
        assertEquals(blobs(e.b())[0], blobPathLines(e, "direct", "quic"), e.b().tail());

        // Scenario 3 on the punched path: the clouds, connected long since, pull another image at once.
        bothPullAtOnce(e, "3 (punched path)");
        assertEquals("connections direct:quic", e.b().query("connections " + e.a().peerId()));
    }

    @Test
    void behindASymmetricNatCloudBGetsEveryLayerFromCloudAOverTheRelayAndBothAtOnceCostOneImage(@TempDir Path tmp) throws Exception {
        Edge e = edge(Nat.CONE, Nat.SYMMETRIC, tmp);
        pull(e, 1);
        connectThroughRelay(e);
        Await.until(Duration.ofSeconds(90), "B's punch to A failed",
                () -> e.b().logContains("event=hole_punch_failed peer=" + e.a().peerId()));
        assertEquals("connections relayed:tcp", e.b().query("connections " + e.a().peerId()));

        long relayed = pullInBFromA(e, "2");
        assertTrue(relayed >= e.imageBytes(), "the layers crossed the relay: " + relayed);
        assertEquals(blobs(e.b())[0], blobPathLines(e, "relayed", "tcp"), e.b().tail());
        assertTrue(e.b().logContains("event=peer_connected peer=" + e.a().peerId() + " path=relayed transport=tcp"),
                e.b().tail());

        // Scenario 3 where the clouds are connected only through the relay: the split of the registry's pieces
        // covers relayed peers too.
        bothPullAtOnce(e, "3 (relayed)");
        assertEquals("connections relayed:tcp", e.b().query("connections " + e.a().peerId()));
    }

    /**
     * Scenario 3: both clouds pull the second image at once, their nodes already connected (as in a deployment,
     * where they are connected long before a pull): the registry sends that image about once in all, each node
     * getting the rest from the other.
     */
    private void bothPullAtOnce(Edge e, String scenario) throws Exception {
        long servedBefore = e.served();
        long[] beforeA = blobs(e.a());
        long[] beforeB = blobs(e.b());
        long t0 = System.nanoTime();
        Process pullA = startPull(e, 1, TAG_TOGETHER, e.dir().resolve("together-1"));
        Process pullB = startPull(e, 2, TAG_TOGETHER, e.dir().resolve("together-2"));
        awaitPull(pullA, e.a());
        awaitPull(pullB, e.b());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        long served = e.served() - servedBefore;
        long[] a = minus(blobs(e.a()), beforeA);
        long[] b = minus(blobs(e.b()), beforeB);
        System.out.printf("nat scenario %s: image %d blob bytes; registry sent %d (%.3fx); A %d from peers, %d from "
                + "the registry; B %d / %d; both pulls done in %d ms%n", scenario, togetherBytes, served,
                served / (double) togetherBytes, a[1], a[2], b[1], b[2], ms);
        assertEquals(togetherBytes, a[1] + a[2], "A has the image");
        assertEquals(togetherBytes, b[1] + b[2], "B has the image");
        assertTrue(served >= togetherBytes, "the registry sent the image at least once: " + served);
        assertTrue(served <= togetherBytes * 1.05, "registry sent " + served + " for two clouds; image is "
                + togetherBytes + "; node logs in " + dir);
    }

    private static long[] minus(long[] after, long[] before) {
        long[] d = new long[after.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = after[i] - before[i];
        }
        return d;
    }

    @Test
    void aRestartedNodeIsDialableAgainThroughItsRelayReservation(@TempDir Path tmp) throws Exception {
        NatClouds.Pair c = closer.add(net.pair(dir, Nat.CONE, Nat.SYMMETRIC));
        Path store = tmp.resolve("store-a");
        NatNode[] n = c.both(() -> c.mirrorNode(1, store), () -> c.node(2, "node"));
        NatNode a = n[0];
        NatNode b = n[1];
        String viaRelay = net.circuit(a);
        long size = 1 << 20;
        String sha = HexFormat.of().formatHex(NatNodeProcess.expectedSha(size));
        String before = b.ask("fetch " + a.peerId() + " " + size + " " + viaRelay, "fetched ", Duration.ofSeconds(90));
        assertTrue(before.startsWith("relayed tcp " + size + " " + sha), before);

        a.close(); // killed: its connection to the relay, and with it B's circuit, go away
        Await.until(Duration.ofSeconds(60), "B lost the circuit to the killed A",
                () -> b.query("connections " + a.peerId()).equals("connections "));
        NatNode restarted = c.mirrorNode(1, store);
        assertEquals(a.peerId(), restarted.peerId(), "same identity from the store");
        assertEquals(viaRelay, net.circuit(restarted), "the same address through the relay");
        String after = b.ask("fetch " + a.peerId() + " " + size + " " + viaRelay, "fetched ", Duration.ofSeconds(90));
        assertTrue(after.startsWith("relayed tcp " + size + " " + sha), after + "\n" + restarted.tail());
    }
}
