package io.layerswarm.nat.dcutr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.identify.Identify;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.layerswarm.libp2p.ping.Ping;
import io.layerswarm.nat.HostContext;
import io.layerswarm.nat.LoopbackHosts;
import io.layerswarm.nat.NatTraversalService;
import io.layerswarm.nat.path.ConnectionPaths;
import io.layerswarm.nat.relay.RelayConfig;
import io.layerswarm.nat.relay.RelayService;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.JsNode;
import io.netty.channel.nio.NioEventLoopGroup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * DCUtR against js-libp2p's {@code @libp2p/dcutr} ({@code dcutr-peer.mjs}), both meeting through a Java circuit
 * relay on loopback, in both roles: js dials our node through the relay, so our node (through
 * {@link NatTraversalService}, after identify said js speaks DCUtR and not our ICE) starts; and our node dials js
 * through the relay, so js starts and ours answers. Each ends with a direct connection on both sides, no relayed
 * one left, and our node's {@code event=peer_connected ... path=direct ... method=dcutr} line.
 *
 * <p>js-libp2p dials only addresses it takes for public in a CONNECT; a DNS name counts, so our node is made to
 * have been observed at {@code /dns4/localhost/tcp/PORT} (on loopback there is no public address to observe).
 */
class DcutrInteropIT {
    private static final Path JS_DIR = Path.of("../p2p-core/src/test/js").toAbsolutePath().normalize();
    private static final Duration WAIT = Duration.ofSeconds(30);
    private final Closer closer = new Closer();
    private final ListAppender<ILoggingEvent> paths = new ListAppender<>();
    private Host relay;

    @BeforeEach
    void start() throws Exception {
        paths.start();
        ((Logger) LoggerFactory.getLogger(ConnectionPaths.class)).addAppender(paths);
        relay = closer.add(LoopbackHosts.start(true));
        Identify.attach(relay);
        closer.add(RelayService.attach(relay, RelayConfig.defaults()));
    }

    @AfterEach
    void close() throws Exception {
        ((Logger) LoggerFactory.getLogger(ConnectionPaths.class)).detachAppender(paths);
        closer.close();
    }

    private static Multiaddr addr(Host h) {
        return h.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + h.peerId().toBase58()));
    }

    private record OurNode(Host host, NatTraversalService service) {
    }

    /** A node as the daemon runs it: identify, ping and NAT traversal (keeping reservations on {@code relays}). */
    private OurNode node(List<Multiaddr> relays) throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        ExecutorService executor = Executors.newCachedThreadPool();
        NioEventLoopGroup group = new NioEventLoopGroup(1);
        closer.add(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS));
        closer.add(executor::shutdownNow);
        closer.add(scheduler::shutdownNow);
        Host h = closer.add(LoopbackHosts.start(true));
        Identify.attach(h);
        Ping.attach(h);
        NatTraversalService service = new NatTraversalService(new NatTraversalService.Config(false, List.of(), relays));
        service.start(HostContext.of(h, scheduler, executor, group));
        closer.add(service);
        h.recordObservedAddr(Multiaddr.parse("/dns4/localhost/tcp/" + h.listenAddrs().get(0)
                .valueOf(MultiaddrProtocol.TCP).orElseThrow()));
        return new OurNode(h, service);
    }

    private JsNode js() throws Exception {
        return closer.add(JsNode.start(JS_DIR, "dcutr-peer.mjs", "@libp2p/dcutr"));
    }

    /**
     * js's answer to {@code direct}: the remote address of its non-limited connection, a plain TCP address of
     * loopback (no circuit). js-libp2p shows the peer's address as it dialled it, which is sometimes the
     * {@code /dns4/localhost} form of loopback that identify reported, not {@code /ip4/127.0.0.1}.
     */
    private static final Pattern DIRECT_LOOPBACK_TCP = Pattern.compile(
            "direct /(ip4/127\\.0\\.0\\.1|dns4/localhost|dns/localhost)/tcp/\\d+(/p2p/\\w+)?");

    /**
     * A copy of what {@link #paths} caught so far: the node's event loops append to its list while the test reads it
     * (a stream over the list itself failed with ConcurrentModificationException); the appender appends holding its
     * own lock.
     */
    private List<ILoggingEvent> logged() {
        synchronized (paths) {
            return new ArrayList<>(paths.list);
        }
    }

    private void assertDirectOnBothSides(Host ours, JsNode js) throws Exception {
        PeerId jsPeer = PeerId.parse(js.peerId);
        js.command("direct " + ours.peerId().toBase58());
        String line = js.expect("direct ", WAIT);
        assertTrue(DIRECT_LOOPBACK_TCP.matcher(line).matches(), line);
        Await.until(WAIT, "our node keeps only a direct connection to js", () -> {
            List<Connection> to = ours.connections().stream().filter(c -> c.remotePeer().equals(jsPeer) && c.isOpen())
                    .toList();
            return !to.isEmpty() && to.stream().noneMatch(Connection::isRelayed);
        });
        String logged = Await.until(WAIT, "our node logs the direct connection made by DCUtR", () -> logged().stream()
                .map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.contains("peer=" + js.peerId) && m.contains("path=direct"))
                .filter(m -> m.contains("method=dcutr")).findFirst().orElse(null), m -> m != null);
        assertTrue(logged.contains("transport=tcp"), logged);
    }

    @Test
    void ourNodeStartsWhenJsDialsItThroughTheRelay() throws Exception {
        OurNode node = node(List.of(addr(relay)));
        Host ours = node.host();
        Await.until(WAIT, "our node's reservation",
                () -> node.service().relayClient().reservedRelays().contains(relay.peerId()));
        JsNode js = js();
        js.command("dial " + addr(relay) + "/p2p-circuit/p2p/" + ours.peerId().toBase58());
        assertEquals("dialed limited", js.expect("dialed ", WAIT));
        assertDirectOnBothSides(ours, js);
    }

    @Test
    void jsStartsWhenOurNodeDialsItThroughTheRelay() throws Exception {
        JsNode js = js();
        js.command("reserve " + addr(relay));
        String circuit = js.expect("reserved ", WAIT).substring("reserved ".length());
        Host ours = node(List.of()).host();
        Connection c = ours.connect(Multiaddr.parse(circuit)).get(30, TimeUnit.SECONDS);
        assertTrue(c.isRelayed());
        assertDirectOnBothSides(ours, js);
    }
}
