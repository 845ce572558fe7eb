package io.layerswarm.k8s.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.multiformats.Varint;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Two real libp2p hosts on loopback: a node pushes its record to the scheduler's light peer. */
class NodeStatusProtocolTest {

    @Test
    void recordsTravelOverLibp2pAndOnlyGenuineOnesLand() throws Exception {
        StatusRecordCodec codec = new StatusRecordCodec();
        SwarmClusterView view = new SwarmClusterView(codec,
                new StatusRecordVerifier(Clock.systemUTC(), Duration.ofMinutes(5), Duration.ofSeconds(5)), Clock.systemUTC(), Map.of());
        Ed25519PrivateKey nodeKey = Ed25519PrivateKey.generate();
        ExecutorService io = Executors.newFixedThreadPool(2);
        try (Host scheduler = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).ioThreads(1).build().start();
             Host node = Host.builder(nodeKey).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).ioThreads(1).build().start()) {
            NodeStatusProtocol.attach(scheduler, view);
            node.connect(scheduler.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + scheduler.peerId().toBase58())))
                    .get(10, TimeUnit.SECONDS);
            long now = System.currentTimeMillis();
            StatusRecord rec = new StatusRecord(node.peerId().toBase58(), 1, now, now + 30_000,
                    new NodeStatus("edge-a", Map.of("sha256:aa", 10L), 100, 90, 0, Map.of(), Map.of()));
            assertEquals(SwarmClusterView.Result.ACCEPTED, NodeStatusProtocol.publish(node, scheduler.peerId(),
                    codec.encode(codec.sign(rec, nodeKey)), io).get(10, TimeUnit.SECONDS));
            assertTrue(view.node("edge-a").orElseThrow().holds("sha256:aa"));

            StatusRecord forged = new StatusRecord(node.peerId().toBase58(), 2, now, now + 30_000,
                    new NodeStatus("edge-a", Map.of(), 100, 100, 0, Map.of(), Map.of()));
            assertEquals(SwarmClusterView.Result.FORGED, NodeStatusProtocol.publish(node, scheduler.peerId(),
                    codec.encode(codec.sign(forged, Ed25519PrivateKey.generate())), io).get(10, TimeUnit.SECONDS));
            assertEquals(SwarmClusterView.Result.MALFORMED, NodeStatusProtocol.publish(node, scheduler.peerId(),
                    new byte[] {1, 2, 3}, io).get(10, TimeUnit.SECONDS));

            // an oversized length prefix: the receiver resets the stream instead of reading it
            P2pStream s = node.newStream(scheduler.peerId(), List.of(NodeStatusProtocol.PROTOCOL)).get(10, TimeUnit.SECONDS);
            OutputStream out = s.outputStream();
            out.write(Varint.encode(StatusRecordCodec.MAX_RECORD_BYTES + 1L));
            out.flush();
            assertEquals(-1, readOrEof(s));
            assertTrue(view.node("edge-a").orElseThrow().holds("sha256:aa"), "the genuine record still stands");
        } finally {
            io.shutdownNow();
        }
    }

    private static int readOrEof(P2pStream s) {
        try {
            return s.inputStream().read();
        } catch (java.io.IOException e) {
            return -1;
        }
    }
}
