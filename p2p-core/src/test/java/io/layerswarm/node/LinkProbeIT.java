package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.store.BlobInfo;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.Platform;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The light bandwidth probes ({@link Node#probeThroughput}) against a real docker-registry and a real
 * peer: a node that has transferred nothing yet gets a measured throughput for its upstream and for a
 * peer holding layers, each from one bounded read, without storing anything; links already measured
 * are not probed again; a registry with nothing in it and a peer holding nothing give no figure.
 */
class LinkProbeIT {
    private static final int PROBE_BYTES = 256 * 1024;

    @TempDir
    Path tmp;
    private final Closer open = new Closer();

    @AfterEach
    void tearDown() throws Exception {
        open.close();
    }

    private <T extends AutoCloseable> T add(T c) {
        open.add(c);
        return c;
    }

    private Node node(String name, RegistryFixture registry) throws Exception {
        return add(Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve(name))
                .upstream(registry.baseUri()).noMirror().start());
    }

    @Test
    void aNodeWithNoTransfersMeasuresItsUpstreamAndAPeerFromOneBoundedReadEach() throws Exception {
        Corpus corpus = Corpus.small();
        Corpus.Image image = corpus.largest();
        RegistryFixture registry = add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        corpus.pushTo(registry.baseUri().toString());
        Node holder = node("holder", registry);
        holder.pull(registry.hostPort(), image.name(), image.tag(), Platform.linuxAmd64());
        Node fresh = node("fresh", registry);
        fresh.connect(holder.listenAddrs().get(0), Duration.ofSeconds(10));
        // the probe reads a blob the peer announced: wait until the fresh node heard of the largest one
        BlobInfo largest = holder.store().list().stream().max(java.util.Comparator.comparingLong(BlobInfo::size)).orElseThrow();
        Digest blob = largest.digest();
        Await.until(Duration.ofSeconds(60), "the holder's announce of " + blob,
                () -> fresh.swarm().holders(blob).join() == 1);

        LinkMeasurements before = fresh.links().get(10, TimeUnit.SECONDS);
        assertFalse(before.upstreams().containsKey(registry.hostPort())
                && before.upstreams().get(registry.hostPort()).hasThroughput(), "no transfer yet: " + before);
        assertTrue(before.peers().values().stream().noneMatch(LinkMeasurement::hasThroughput), "no transfer yet: " + before);

        assertEquals(2, fresh.probeThroughput(PROBE_BYTES).get(2, TimeUnit.MINUTES), "the upstream and the peer");

        LinkMeasurements after = fresh.links().get(10, TimeUnit.SECONDS);
        LinkMeasurement up = after.upstreams().get(registry.hostPort());
        assertTrue(up.hasThroughput(), "the upstream has a rate: " + up);
        assertTrue(up.bytesReceived() > 0 && up.bytesReceived() <= PROBE_BYTES, "one bounded read: " + up);
        LinkMeasurement peer = after.peers().get(holder.host().peerId());
        assertTrue(peer != null && peer.hasThroughput(), "the peer has a rate: " + after.peers());
        assertEquals(Math.min(largest.size(), PROBE_BYTES), peer.bytesReceived(), "a bounded read of the largest blob");
        assertTrue(fresh.store().list().isEmpty(), "probe bytes are not stored: " + fresh.store().list());

        // measured links cost nothing the next time
        assertEquals(0, fresh.probeThroughput(PROBE_BYTES).get(2, TimeUnit.MINUTES), "nothing left to measure");
        assertEquals(peer.bytesReceived(), fresh.links().get(10, TimeUnit.SECONDS).peers().get(holder.host().peerId()).bytesReceived());
        System.out.printf("link-probe-it: upstream_Bps=%.0f upstream_bytes=%d peer_Bps=%.0f peer_bytes=%d%n",
                up.bytesPerSecond(), up.bytesReceived(), peer.bytesPerSecond(), peer.bytesReceived());
    }

    @Test
    void anEmptyRegistryAndAPeerHoldingNothingGiveNoFigure() throws Exception {
        RegistryFixture registry = add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        Node a = node("a", registry);
        Node b = node("b", registry);
        b.connect(a.listenAddrs().get(0), Duration.ofSeconds(10));
        assertEquals(0, b.probeThroughput(PROBE_BYTES).get(2, TimeUnit.MINUTES), "nothing to read anywhere");
        LinkMeasurements m = b.links().get(10, TimeUnit.SECONDS);
        assertTrue(m.upstreams().values().stream().noneMatch(LinkMeasurement::hasThroughput), "no invented rate: " + m);
        assertTrue(m.peers().values().stream().noneMatch(LinkMeasurement::hasThroughput), "no invented rate: " + m);
        assertThrows(IllegalArgumentException.class, () -> b.probeThroughput(0));
        assertThrows(IllegalArgumentException.class, () -> b.probeThroughput(Integer.MAX_VALUE));
    }
}
