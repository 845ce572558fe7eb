package io.layerswarm.k8s.status;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SwarmClusterViewTest {
    private final Ed25519PrivateKey nodeKey = Ed25519PrivateKey.generate();
    private final Ed25519PrivateKey otherKey = Ed25519PrivateKey.generate();
    private final StatusRecordCodec codec = new StatusRecordCodec();
    private final MutableClock clock = new MutableClock(Instant.ofEpochMilli(1_000_000));
    private final SwarmClusterView view = new SwarmClusterView(codec,
            new StatusRecordVerifier(clock, Duration.ofMinutes(5), Duration.ofSeconds(5)), clock, Map.of());

    private static NodeStatus status(String node, long free) {
        return new NodeStatus(node, Map.of("sha256:aa", 100L, "sha256:bb", 2000L), 10_000, free, 50,
                Map.of("registry.example", new LinkEstimate(2.5e6, 40)), Map.of("edge-b", new LinkEstimate(1.2e8, 0.4)));
    }

    private byte[] signed(Ed25519PrivateKey key, String node, long version, long ttlMillis, long free) {
        StatusRecord r = new StatusRecord(PeerId.fromPublicKey(key.publicKey()).toBase58(), version, clock.millis(),
                clock.millis() + ttlMillis, status(node, free));
        return codec.encode(codec.sign(r, key));
    }

    @Test
    void roundTripsAndIsDeterministic() {
        byte[] a = signed(nodeKey, "edge-a", 1, 30_000, 700);
        SignedStatusRecord d = codec.decode(a);
        assertEquals(status("edge-a", 700), d.record().status());
        assertEquals(1, d.record().version());
        assertArrayEquals(a, codec.encode(codec.sign(d.record(), nodeKey)), "same record, same bytes");
    }

    @Test
    void acceptsNewerVersionsAndDropsSilentNodes() {
        assertEquals(SwarmClusterView.Result.ACCEPTED, view.ingest(signed(nodeKey, "edge-a", 1, 30_000, 700)));
        assertEquals(700, view.node("edge-a").orElseThrow().freeBytes());
        assertEquals(SwarmClusterView.Result.ACCEPTED, view.ingest(signed(nodeKey, "edge-a", 2, 30_000, 300)));
        assertEquals(300, view.node("edge-a").orElseThrow().freeBytes());
        clock.advance(Duration.ofSeconds(31));
        assertTrue(view.node("edge-a").isEmpty(), "expired: the node went silent");
        assertTrue(view.nodes().isEmpty());
    }

    /**
     * The version that lets the scheduler keep a snapshot moves when what the view answers changes (a new
     * node, other content, a node back after it expired), not when a node re-publishes the same content
     * (the held status object is kept), nor for a refused record.
     */
    @Test
    void versionMovesOnlyWhenAnswersChange() {
        long v0 = view.version();
        assertEquals(SwarmClusterView.Result.ACCEPTED, view.ingest(signed(nodeKey, "edge-a", 1, 30_000, 700)));
        long v1 = view.version();
        assertTrue(v1 > v0, "a new node");
        NodeStatus held = view.node("edge-a").orElseThrow();
        assertEquals(SwarmClusterView.Result.ACCEPTED, view.ingest(signed(nodeKey, "edge-a", 2, 30_000, 700)));
        assertEquals(v1, view.version(), "same content re-published");
        assertTrue(held == view.node("edge-a").orElseThrow(), "the held status object is kept");
        assertEquals(SwarmClusterView.Result.STALE, view.ingest(signed(nodeKey, "edge-a", 2, 30_000, 1)));
        assertEquals(SwarmClusterView.Result.FORGED, view.ingest(signed(otherKey, "edge-a", 9, 30_000, 1)));
        assertEquals(v1, view.version(), "refused records change nothing");
        assertEquals(SwarmClusterView.Result.ACCEPTED, view.ingest(signed(nodeKey, "edge-a", 3, 30_000, 300)));
        long v3 = view.version();
        assertTrue(v3 > v1, "other content");
        clock.advance(Duration.ofSeconds(31));
        assertTrue(view.nodes().isEmpty(), "expired");
        assertEquals(SwarmClusterView.Result.ACCEPTED, view.ingest(signed(nodeKey, "edge-a", 4, 30_000, 300)));
        assertTrue(view.version() > v3, "back after expiring, with the same content");
        assertEquals(300, view.node("edge-a").orElseThrow().freeBytes());
    }

    @Test
    void staleAndReplayedRecordsAreIgnored() {
        byte[] v1 = signed(nodeKey, "edge-a", 1, 30_000, 700);
        byte[] v2 = signed(nodeKey, "edge-a", 2, 30_000, 300);
        assertEquals(SwarmClusterView.Result.ACCEPTED, view.ingest(v2));
        assertEquals(SwarmClusterView.Result.STALE, view.ingest(v1), "older version");
        assertEquals(SwarmClusterView.Result.STALE, view.ingest(v2), "replay of the same version");
        assertEquals(300, view.node("edge-a").orElseThrow().freeBytes());
        byte[] v3 = signed(nodeKey, "edge-a", 3, 10_000, 100);
        clock.advance(Duration.ofSeconds(11));
        assertEquals(SwarmClusterView.Result.STALE, view.ingest(v3), "expired before it arrived");
        assertEquals(SwarmClusterView.Result.BAD_WINDOW, view.ingest(signed(nodeKey, "edge-a", 4, 3_600_000, 100)),
                "an hour of validity is more than the view allows");
    }

    @Test
    void forgedRecordsAreIgnored() {
        assertEquals(SwarmClusterView.Result.ACCEPTED, view.ingest(signed(nodeKey, "edge-a", 5, 30_000, 700)));
        // another key speaking for edge-a, correctly signed by itself
        assertEquals(SwarmClusterView.Result.FORGED, view.ingest(signed(otherKey, "edge-a", 6, 30_000, 0)));
        // a record that names nodeKey's peer id but is signed by otherKey
        StatusRecord claim = new StatusRecord(PeerId.fromPublicKey(nodeKey.publicKey()).toBase58(), 7, clock.millis(),
                clock.millis() + 30_000, status("edge-a", 0));
        assertEquals(SwarmClusterView.Result.FORGED, view.ingest(codec.encode(codec.sign(claim, otherKey))));
        // a genuine record with one payload byte changed (free 700 -> 100 would be 7 -> 1)
        byte[] genuine = signed(nodeKey, "edge-a", 8, 30_000, 700);
        String text = new String(genuine, StandardCharsets.ISO_8859_1).replace("\"free\":700", "\"free\":100");
        assertEquals(SwarmClusterView.Result.FORGED, view.ingest(text.getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals(700, view.node("edge-a").orElseThrow().freeBytes());
    }

    @Test
    void pinnedKeysOverrideFirstUse() {
        SwarmClusterView pinned = new SwarmClusterView(codec, new StatusRecordVerifier(clock, Duration.ofMinutes(5), Duration.ofSeconds(5)),
                clock, Map.of("edge-a", PeerId.fromPublicKey(nodeKey.publicKey()).toBase58()));
        assertEquals(SwarmClusterView.Result.FORGED, pinned.ingest(signed(otherKey, "edge-a", 1, 30_000, 0)));
        assertEquals(SwarmClusterView.Result.ACCEPTED, pinned.ingest(signed(nodeKey, "edge-a", 1, 30_000, 0)));
    }

    @Test
    void peerLinksKeyedByPeerIdAreAnsweredByNodeName() {
        String otherId = PeerId.fromPublicKey(otherKey.publicKey()).toBase58();
        LinkEstimate measured = new LinkEstimate(9e7, 0.8);
        StatusRecord a = new StatusRecord(PeerId.fromPublicKey(nodeKey.publicKey()).toBase58(), 1, clock.millis(),
                clock.millis() + 30_000, new NodeStatus("edge-a", Map.of(), 10_000, 10_000, 0, Map.of(),
                Map.of(otherId, measured, "edge-c", new LinkEstimate(1e6, 9))));
        assertEquals(SwarmClusterView.Result.ACCEPTED, view.ingest(codec.encode(codec.sign(a, nodeKey))));
        // the peer has published nothing yet: its id stays a key no node is named by
        assertEquals(measured, view.node("edge-a").orElseThrow().peers().get(otherId));
        assertEquals(null, view.node("edge-a").orElseThrow().peers().get("edge-b"));

        // once edge-b's record says whose id that is, edge-a's link to it is found by name, in node() and nodes()
        assertEquals(SwarmClusterView.Result.ACCEPTED, view.ingest(signed(otherKey, "edge-b", 1, 30_000, 700)));
        NodeStatus seen = view.node("edge-a").orElseThrow();
        assertEquals(Map.of("edge-b", measured, "edge-c", new LinkEstimate(1e6, 9)), seen.peers());
        assertEquals(seen, view.nodes().stream().filter(n -> n.nodeName().equals("edge-a")).findFirst().orElseThrow());
        // a node-name key (a view file, an older publisher) is answered as it is
        assertEquals(Map.of("edge-b", new LinkEstimate(1.2e8, 0.4)), view.node("edge-b").orElseThrow().peers());
    }

    @Test
    void garbageIsMalformedNeverAnException() {
        byte[] good = signed(nodeKey, "edge-a", 1, 30_000, 700);
        Random rnd = new Random(7);
        List<byte[]> bad = new java.util.ArrayList<>(List.of(new byte[0], new byte[] {0, 0, 0, 1}, Arrays.copyOf(good, good.length - 1),
                Arrays.copyOf(good, good.length + 1), "{\"not\":\"binary\"}".getBytes(StandardCharsets.UTF_8),
                new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2}));
        for (int i = 0; i < 200; i++) {
            byte[] b = good.clone();
            b[rnd.nextInt(b.length)] ^= (byte) (1 + rnd.nextInt(255));
            bad.add(b);
        }
        for (byte[] b : bad) {
            SwarmClusterView.Result r = view.ingest(b);
            assertTrue(r == SwarmClusterView.Result.MALFORMED || r == SwarmClusterView.Result.FORGED, r.toString());
        }
        assertTrue(view.nodes().isEmpty());
    }
}
