package io.layerswarm.k8s.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.node.LinkMeasurement;
import io.layerswarm.node.LinkMeasurements;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PublishedLinksTest {
    private static PeerId peer() {
        return PeerId.fromPublicKey(Ed25519PrivateKey.generate().publicKey());
    }

    @Test
    void measuredLinksArePublishedAndUnmeasuredOnesAreNot() {
        PeerId near = peer();
        PeerId pingedOnly = peer();
        LinkMeasurements m = new LinkMeasurements(
                Map.of(near, new LinkMeasurement(1.1e8, 0.5, 4096), pingedOnly, new LinkMeasurement(0, 0.7, 0)),
                Map.of("registry.example:5000", new LinkMeasurement(2.5e6, 40, 1 << 20),
                        "mirror.example", new LinkMeasurement(3e6, Double.NaN, 1 << 20),
                        "idle.example", new LinkMeasurement(0, 12, 0)));
        PublishedLinks p = PublishedLinks.from(m, List.of("registry.example:5000", "mirror.example", "idle.example"));
        assertEquals(Map.of("registry.example:5000", new LinkEstimate(2.5e6, 40),
                "mirror.example", new LinkEstimate(3e6, 0),
                "*", new LinkEstimate(2.5e6, 40)), p.registries(),
                "per namespace, the default upstream as *, an RTT never measured as 0, nothing for an idle upstream");
        assertEquals(Map.of(near.toBase58(), new LinkEstimate(1.1e8, 0.5)), p.peers(), "a peer only pinged has no rate");
    }

    @Test
    void noDefaultLinkWhileTheDefaultUpstreamIsUnmeasured() {
        LinkMeasurements m = new LinkMeasurements(Map.of(), Map.of("mirror.example", new LinkMeasurement(3e6, 5, 1)));
        PublishedLinks p = PublishedLinks.from(m, List.of("registry.example", "mirror.example"));
        assertEquals(Map.of("mirror.example", new LinkEstimate(3e6, 5)), p.registries());
        assertTrue(PublishedLinks.from(new LinkMeasurements(Map.of(), Map.of()), List.of("r")).registries().isEmpty());
    }

    @Test
    void manyPeersAreCutToThoseThatSentTheMost() {
        Map<PeerId, LinkMeasurement> peers = new HashMap<>();
        PeerId top = peer();
        peers.put(top, new LinkMeasurement(1e6, 1, Long.MAX_VALUE));
        for (int i = 0; i < PublishedLinks.MAX_PEERS + 49; i++) {
            peers.put(peer(), new LinkMeasurement(2e6 + i, 1, i + 1));
        }
        PublishedLinks p = PublishedLinks.from(new LinkMeasurements(peers, Map.of()), List.of("r"));
        assertEquals(PublishedLinks.MAX_PEERS, p.peers().size());
        assertTrue(p.peers().containsKey(top.toBase58()));
        long smallestKept = peers.values().stream().filter(l -> p.peers().containsValue(new LinkEstimate(l.bytesPerSecond(), 1)))
                .mapToLong(LinkMeasurement::bytesReceived).min().orElseThrow();
        assertEquals(51, smallestKept, "the 50 peers that sent least are left out");
    }

    @Test
    void publishedLinksSurviveTheRecordCodec() {
        PeerId near = peer();
        PublishedLinks p = PublishedLinks.from(new LinkMeasurements(Map.of(near, new LinkMeasurement(1.1e8, 0.5, 1)),
                Map.of("r:5000", new LinkMeasurement(2.5e6, 40, 1))), List.of("r:5000"));
        Ed25519PrivateKey key = Ed25519PrivateKey.generate();
        StatusRecordCodec codec = new StatusRecordCodec();
        StatusRecord r = new StatusRecord(PeerId.fromPublicKey(key.publicKey()).toBase58(), 1, 1000, 2000,
                new io.layerswarm.k8s.view.NodeStatus("edge-a", Map.of(), 1, 1, 0, p.registries(), p.peers()));
        StatusRecord back = codec.decode(codec.encode(codec.sign(r, key))).record();
        assertEquals(p.registries(), back.status().registries());
        assertEquals(p.peers(), back.status().peers());
    }
}
