package io.layerswarm.libp2p.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.multiformats.Cid;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.OciCids;
import io.layerswarm.testing.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Kad over real hosts (TCP, Noise, Yamux) on loopback. */
class KadHostBindingTest {
    private static final Duration AWAIT = Duration.ofSeconds(30);


    private final List<Host> hosts = new ArrayList<>();
    private final List<KadHostBinding> kads = new ArrayList<>();

    @AfterEach
    void tearDown() {
        kads.forEach(KadHostBinding::close);
        hosts.forEach(Host::close);
    }

    private KadHostBinding node(KadConfig cfg) throws Exception {
        Host h = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .ioThreads(1).build().start();
        hosts.add(h);
        KadHostBinding k = KadHostBinding.attach(h, cfg, Duration.ofSeconds(5));
        kads.add(k);
        return k;
    }

    private static Multiaddr fullAddr(Host h) {
        return h.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + h.peerId().toBase58()));
    }

    @Test
    void providerFoundAcrossFiveHosts() throws Exception {
        KadConfig cfg = KadConfig.defaults();
        List<KadHostBinding> nodes = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            nodes.add(node(cfg));
        }
        Multiaddr seed = fullAddr(hosts.get(0));
        for (int i = 1; i < 5; i++) {
            int size = nodes.get(i).bootstrap(List.of(seed)).get(20, TimeUnit.SECONDS);
            assertTrue(size >= 1, "node " + i + " routing table empty after bootstrap");
        }
        Cid cid = OciCids.toCid(Digest.sha256("layer".getBytes(StandardCharsets.UTF_8)));
        int delivered = nodes.get(2).dht().provide(cid).get(20, TimeUnit.SECONDS);
        assertTrue(delivered >= 1, "ADD_PROVIDER delivered to " + delivered);
        // ADD_PROVIDER has no response in the kad spec: "delivered" means written, and a peer may answer
        // node 4's GET_PROVIDERS before it has read the record, so the lookup is repeated until it finds it
        List<KadPeer> found = Await.until(AWAIT, "node 4 finds node 2 as the provider",
                () -> {
                    try {
                        return nodes.get(4).dht().findProviders(cid, 3).get(20, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, f -> !f.isEmpty());
        assertEquals(List.of(hosts.get(2).peerId()), found.stream().map(p -> PeerId.fromBytes(p.id())).toList());
        assertFalse(found.get(0).addrs().isEmpty(), "provider record carries the provider's addresses");
        assertEquals(hosts.get(2).listenAddrs().get(0), Multiaddr.decode(found.get(0).addrs().get(0)));
    }

    @Test
    void identifyAddsKadServersButNotClientsOrOthers() throws Exception {
        KadHostBinding a = node(KadConfig.defaults());
        KadHostBinding b = node(KadConfig.defaults());
        KadHostBinding client = node(KadConfig.defaults().withClientMode(true));
        Host plain = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .ioThreads(1).build().start();
        hosts.add(plain);
        for (Host h : hosts) {
            Identify.attach(h);
        }
        Host ha = hosts.get(0);
        Map<PeerId, Boolean> seenByA = new ConcurrentHashMap<>();
        a.onPeerIdentified(seenByA::put);
        ha.connect(fullAddr(hosts.get(1))).get(10, TimeUnit.SECONDS);
        hosts.get(2).connect(fullAddr(ha)).get(10, TimeUnit.SECONDS);
        plain.connect(fullAddr(ha)).get(10, TimeUnit.SECONDS);
        Await.until(AWAIT, "identified kad servers are routed", () -> a.dht().inRoutingTable(hosts.get(1).peerId().bytes())
                && b.dht().inRoutingTable(ha.peerId().bytes()));
        // The client learnt of a server the same way, but nobody routes the client or the plain host.
        Await.until(AWAIT, "the client routes the server it connected to",
                () -> client.dht().inRoutingTable(ha.peerId().bytes()));
        Await.until(AWAIT, "a has looked at identify of all three peers", () -> seenByA.size() == 3);
        assertEquals(Map.of(hosts.get(1).peerId(), true, hosts.get(2).peerId(), false, plain.peerId(), false), seenByA,
                "only the kad server speaks kad");
        assertFalse(a.dht().inRoutingTable(hosts.get(2).peerId().bytes()), "client-mode peer routed");
        assertFalse(a.dht().inRoutingTable(plain.peerId().bytes()), "peer without kad routed");
        assertEquals(1, a.dht().routingTableSize(), "only the other kad server is routed");
    }

    @Test
    void clientModeHostServesNothingButFinds() throws Exception {
        KadHostBinding server = node(KadConfig.defaults());
        KadHostBinding provider = node(KadConfig.defaults());
        KadHostBinding client = node(KadConfig.defaults().withClientMode(true));
        Multiaddr seed = fullAddr(hosts.get(0));
        provider.bootstrap(List.of(seed)).get(20, TimeUnit.SECONDS);
        client.bootstrap(List.of(seed)).get(20, TimeUnit.SECONDS);
        assertFalse(hosts.get(2).protocols().contains(KadDht.PROTOCOL));
        byte[] key = KadDht.providerKey(OciCids.toCid(Digest.sha256(new byte[] {1})));
        provider.dht().provide(key).get(20, TimeUnit.SECONDS);
        assertEquals(1, client.dht().findProviders(key, 1).get(20, TimeUnit.SECONDS).size());
        assertFalse(server.dht().inRoutingTable(hosts.get(2).peerId().bytes()));
        // A server asking the client gets refused at protocol negotiation and does not route it.
        KadPeer clientPeer = new KadPeer(hosts.get(2).peerId().bytes(), List.of(hosts.get(2).listenAddrs().get(0).bytes()), null);
        assertTrue(server.request(clientPeer, KadMessage.request(KadMessage.Type.FIND_NODE, key))
                .handle((r, e) -> e != null).get(20, TimeUnit.SECONDS));
    }
}
