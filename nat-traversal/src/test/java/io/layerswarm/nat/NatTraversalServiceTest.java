package io.layerswarm.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.nat.path.ConnectionPaths;
import io.layerswarm.node.NodeContext;
import io.layerswarm.testing.Await;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class NatTraversalServiceTest {
    /** Deadline of an awaited condition: it only bounds a hang. */
    private static final Duration AWAIT = Duration.ofSeconds(30);
    private final List<AutoCloseable> open = new ArrayList<>();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final EventLoopGroup group = new NioEventLoopGroup(1);

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        scheduler.shutdownNow();
        executor.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private Host host(boolean listen) throws Exception {
        Host h = LoopbackHosts.start(listen);
        open.add(h);
        return h;
    }

    private NatTraversalService start(Host h, NatTraversalService.Config config) throws Exception {
        NatTraversalService s = new NatTraversalService(config);
        s.start(context(h));
        open.add(s);
        return s;
    }

    private static Multiaddr addr(Host h) {
        return h.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + h.peerId().toBase58()));
    }

    @Test
    void natedNodeIsDialableOnlyThroughItsRelay() throws Exception {
        Host relay = host(true);
        start(relay, new NatTraversalService.Config(true, List.of(), List.of()));
        Host nated = host(false);
        NatTraversalService natedService = start(nated,
                new NatTraversalService.Config(false, List.of(), List.of(addr(relay))));
        Host dialer = host(true);
        start(dialer, new NatTraversalService.Config(false, List.of(), List.of()));

        Await.until(AWAIT, "the reservation",
                () -> natedService.relayClient().reservedRelays().contains(relay.peerId()));
        Multiaddr circuit = addr(relay).encapsulate(Multiaddr.parse("/p2p-circuit/p2p/" + nated.peerId().toBase58()));
        // it advertises the circuit, as nothing about it is confirmed reachable
        Await.until(AWAIT, "the circuit address to be advertised",
                () -> natedService.reachability().advertisedAddrs().contains(
                        addr(relay).encapsulate(Multiaddr.parse("/p2p-circuit"))));

        Connection c = dialer.connect(circuit).get(10, TimeUnit.SECONDS);
        assertEquals(nated.peerId(), c.remotePeer());
        assertEquals("relayed", ConnectionPaths.path(c));
        assertEquals("tcp", ConnectionPaths.transport(c));
        assertTrue(c.ping().get(10, TimeUnit.SECONDS).toNanos() > 0);
    }

    @Test
    void configRefusesRelaysWithoutPeerIdAndTooManyEntries() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new NatTraversalService.Config(
                false, List.of(), List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/4001"))));
        assertTrue(e.getMessage().contains("/p2p/"), e.getMessage());
        List<InetSocketAddress> many = new ArrayList<>();
        for (int i = 0; i <= NatTraversalService.MAX_ENTRIES; i++) {
            many.add(new InetSocketAddress("127.0.0.1", 3478 + i));
        }
        assertThrows(IllegalArgumentException.class, () -> new NatTraversalService.Config(false, many, List.of()));
    }


    private NodeContext context(Host h) {
        return HostContext.of(h, scheduler, executor, group);
    }
}
