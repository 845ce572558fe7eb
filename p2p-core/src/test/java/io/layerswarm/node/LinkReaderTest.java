package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.swarm.SwarmLoop.SourceSnapshot;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LinkReaderTest {

    @Test
    void swarmSourceIdsBecomePeersAndUpstreamNamespaces() {
        PeerId peer = PeerId.fromPublicKey(Ed25519PrivateKey.generate().publicKey());
        LinkReader reader = new LinkReader(null, List.of(RegistryClient.builder(URI.create("http://Registry.Example:5000")).build(),
                RegistryClient.builder(URI.create("https://mirror.example")).build()));
        LinkMeasurements m = reader.map(Map.of(
                "registry:Registry.Example:5000", new SourceSnapshot(40, 2.5e6, 9_000_000),
                "registry:mirror.example", new SourceSnapshot(Double.NaN, 0, 0),
                peer.toBase58(), new SourceSnapshot(0.5, 1.1e8, 42),
                "registry:gone.example", new SourceSnapshot(3, 1e6, 1)));
        assertEquals(Map.of(peer, new LinkMeasurement(1.1e8, 0.5, 42)), m.peers());
        assertEquals(new LinkMeasurement(2.5e6, 40, 9_000_000), m.upstreams().get("registry.example:5000"),
                "keyed by namespace (host lower case), as Node#namespaces");
        LinkMeasurement none = m.upstreams().get("mirror.example");
        assertFalse(none.hasThroughput());
        assertFalse(none.hasRtt());
        assertEquals(2, m.upstreams().size(), "a registry that is no upstream is dropped: " + m.upstreams());
    }

    @Test
    void badFiguresAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LinkMeasurement(-1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new LinkMeasurement(Double.NaN, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new LinkMeasurement(1, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new LinkMeasurement(1, Double.POSITIVE_INFINITY, 0));
        assertThrows(IllegalArgumentException.class, () -> new LinkMeasurement(1, 1, -1));
        assertTrue(new LinkMeasurement(1, 0, 0).hasRtt());
    }
}
