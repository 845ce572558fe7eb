package io.layerswarm.libp2p.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.kad.InProcessKadNetwork.Node;
import io.layerswarm.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KadDhtNetworkTest {

    private static final int NODES = 50;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private InProcessKadNetwork net;

    @AfterEach
    void tearDown() {
        if (net != null) {
            net.close();
        }
    }

    private KadConfig config(int k) {
        return KadConfig.defaults().withK(k).withClock(clock);
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        return f.get(30, TimeUnit.SECONDS);
    }

    /** Builds a network where every node bootstraps from node 0. */
    private List<Node> network(int n, int k) throws Exception {
        net = new InProcessKadNetwork(42);
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            nodes.add(net.add(config(k)));
        }
        Node seed = nodes.get(0);
        for (int i = 1; i < n; i++) {
            await(nodes.get(i).dht.bootstrap(List.of(seed.peer())));
        }
        return nodes;
    }

    private static List<String> ids(List<?> peersOrNodes) {
        List<String> out = new ArrayList<>();
        for (Object o : peersOrNodes) {
            byte[] id = o instanceof Node n ? n.id : ((KadPeer) o).id();
            out.add(java.util.HexFormat.of().formatHex(id));
        }
        return out;
    }

    @Test
    void lookupFindsTheTrueKClosestIn50Nodes() throws Exception {
        int k = 8; // smaller than the network so lookups must iterate
        List<Node> nodes = network(NODES, k);
        for (int i = 0; i < 10; i++) {
            Node asker = nodes.get((i * 7 + 3) % NODES);
            byte[] key = net.randomKey();
            List<KadPeer> found = await(asker.dht.findClosestPeers(key));
            assertEquals(ids(net.trueClosest(key, k, asker)), ids(found), "lookup " + i + " from node " + i);
        }
    }

    @Test
    void lookupToleratesOfflinePeersAndEvictsThem() throws Exception {
        int k = 8;
        List<Node> nodes = network(NODES, k);
        for (int i = 5; i < NODES; i += 5) {
            nodes.get(i).online = false;
        }
        Node asker = nodes.get(1);
        for (int i = 0; i < 5; i++) {
            byte[] key = net.randomKey();
            assertEquals(ids(net.trueClosest(key, k, asker)), ids(await(asker.dht.findClosestPeers(key))));
        }
        // Looking up an offline peer's own id makes the asker try it first; the failure evicts it.
        for (int i = 5; i < NODES; i += 5) {
            Node off = nodes.get(i);
            await(asker.dht.findClosestPeers(off.id));
            assertFalse(asker.dht.inRoutingTable(off.id), "offline peer " + i + " still routed");
        }
        assertTrue(asker.dht.routingTableSize() >= k, "table kept its live peers");
    }

    @Test
    void providerPutByOneNodeIsFoundByAnother() throws Exception {
        int k = 8;
        List<Node> nodes = network(NODES, k);
        Node provider = nodes.get(17);
        byte[] key = net.randomKey();
        int delivered = await(provider.dht.provide(key));
        assertEquals(k, delivered);
        // The record sits on the k closest nodes to the key.
        for (Node n : net.trueClosest(key, k, provider)) {
            assertEquals(ids(List.of(provider)), ids(n.dht.localProviders(key)));
        }
        for (int i : new int[] {2, 31, 49}) {
            List<KadPeer> found = await(nodes.get(i).dht.findProviders(key, 5));
            assertEquals(ids(List.of(provider)), ids(found), "from node " + i);
            assertEquals(1, found.get(0).addrs().size(), "provider addresses travel with the record");
        }
        // An unknown key has no providers.
        assertTrue(await(nodes.get(3).dht.findProviders(net.randomKey(), 5)).isEmpty());
    }

    @Test
    void findProvidersStopsEarlyOnceEnoughAreKnown() throws Exception {
        List<Node> nodes = network(NODES, 8);
        byte[] key = net.randomKey();
        for (int i = 10; i < 14; i++) {
            await(nodes.get(i).dht.provide(key));
        }
        assertEquals(4, await(nodes.get(40).dht.findProviders(key, 10)).size());
        assertEquals(2, await(nodes.get(41).dht.findProviders(key, 2)).size());
    }

    @Test
    void providerRecordsExpireUnlessRepublished() throws Exception {
        int k = 8;
        net = new InProcessKadNetwork(7);
        KadConfig cfg = config(k).withProviderTimes(Duration.ofHours(48), Duration.ofHours(22));
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            nodes.add(net.add(cfg));
        }
        for (int i = 1; i < 30; i++) {
            await(nodes.get(i).dht.bootstrap(List.of(nodes.get(0).peer())));
        }
        byte[] kept = net.randomKey();
        byte[] dropped = net.randomKey();
        await(nodes.get(5).dht.provide(kept));
        await(nodes.get(6).dht.provide(dropped));
        nodes.get(6).dht.stopProviding(dropped);

        clock.advance(Duration.ofHours(21));
        assertEquals(0, await(nodes.get(5).dht.republishProviders()), "nothing due before 22h");
        clock.advance(Duration.ofHours(2)); // 23h
        assertEquals(1, await(nodes.get(5).dht.republishProviders()));
        clock.advance(Duration.ofHours(26)); // 49h: first records expired, republished ones live
        int expired = 0;
        for (Node n : nodes) {
            expired += n.dht.expireProviders();
        }
        // The k remote copies of the dropped key plus its provider's own record.
        assertEquals(k + 1, expired);
        assertEquals(1, await(nodes.get(20).dht.findProviders(kept, 5)).size());
        assertTrue(await(nodes.get(20).dht.findProviders(dropped, 5)).isEmpty(), "expired record still served");
    }

    @Test
    void clientModeNodesQueryButAreNeverRouted() throws Exception {
        int k = 8;
        List<Node> nodes = network(20, k);
        Node client = net.add(config(k).withClientMode(true));
        await(client.dht.bootstrap(List.of(nodes.get(0).peer())));
        assertTrue(client.dht.routingTableSize() > 0);
        byte[] key = net.randomKey();
        await(nodes.get(3).dht.provide(key));
        assertEquals(ids(List.of(nodes.get(3))), ids(await(client.dht.findProviders(key, 3))));
        for (Node n : nodes) {
            assertFalse(n.dht.inRoutingTable(client.id), "client-mode node entered a routing table");
        }
        assertThrows(KadProtocolException.class, () -> client.dht.handleRequest(nodes.get(1).peer(),
                KadMessage.request(KadMessage.Type.FIND_NODE, key)));
    }

    @Test
    void fullBucketReplacesUnresponsiveOldestPeer() throws Exception {
        net = new InProcessKadNetwork(99);
        Node me = net.add(config(2));
        // Bucket 0 holds peers whose first key bit differs from ours; collect three of them.
        List<Node> far = new ArrayList<>();
        while (far.size() < 3) {
            Node n = net.add(config(2));
            if (KadId.of(me.id).commonPrefixLength(KadId.of(n.id)) == 0) {
                far.add(n);
            }
        }
        me.dht.peerSpeaksKad(far.get(0).peer());
        me.dht.peerSpeaksKad(far.get(1).peer());
        // Oldest alive: the newcomer waits in the replacement cache.
        me.dht.peerSpeaksKad(far.get(2).peer());
        waitIdle();
        assertTrue(me.dht.inRoutingTable(far.get(0).id));
        assertFalse(me.dht.inRoutingTable(far.get(2).id));
        // Oldest (now far1 after far0 was touched) goes offline: the newcomer replaces it.
        far.get(1).online = false;
        me.dht.peerSpeaksKad(far.get(2).peer());
        waitIdle();
        assertFalse(me.dht.inRoutingTable(far.get(1).id));
        assertTrue(me.dht.inRoutingTable(far.get(2).id));
        assertTrue(me.dht.inRoutingTable(far.get(0).id));
    }

    @Test
    void bucketRefreshDiscoversPeersAndRespectsInterval() throws Exception {
        List<Node> nodes = network(NODES, 8);
        Node late = net.add(config(8));
        late.dht.peerSpeaksKad(nodes.get(0).peer());
        assertEquals(1, late.dht.routingTableSize());
        clock.advance(Duration.ofMinutes(11));
        int refreshed = await(late.dht.refreshBuckets());
        assertTrue(refreshed >= 1, "stale buckets refreshed: " + refreshed);
        assertTrue(late.dht.routingTableSize() > 8, "refresh filled the table: " + late.dht.routingTableSize());
        // Newly filled deeper buckets may need one more round; then everything is fresh.
        int rounds = 0;
        while (await(late.dht.refreshBuckets()) > 0) {
            assertTrue(++rounds < 5, "refresh does not converge");
        }
        clock.advance(Duration.ofMinutes(11));
        assertTrue(await(late.dht.refreshBuckets()) > 1, "stale again after the interval");
    }

    private void waitIdle() throws Exception {
        // The delivery thread is FIFO: a no-op request queued now completes after earlier work.
        for (int i = 0; i < 3; i++) {
            Node probe = net.nodes().get(0);
            probe.dht.findClosestPeers(new byte[] {(byte) i}).get(10, TimeUnit.SECONDS);
        }
    }
}
