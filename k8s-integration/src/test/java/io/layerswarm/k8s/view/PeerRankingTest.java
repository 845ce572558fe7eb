package io.layerswarm.k8s.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PeerRankingTest {

    @Test
    void peersIterateBestFirstTiesByName() {
        Map<String, LinkEstimate> peers = new HashMap<>();
        peers.put("slow", LinkEstimate.mbps(10, 1));
        peers.put("far", LinkEstimate.mbps(1000, 2000)); // fast pipe, but a 16 MiB fetch feels the 2 s
        peers.put("near-b", LinkEstimate.mbps(1000, 1));
        peers.put("near-a", LinkEstimate.mbps(1000, 1));
        peers.put("mid", LinkEstimate.mbps(100, 1));
        NodeStatus s = new NodeStatus("n", Map.of(), 1, 1, 0, Map.of(), peers);
        assertEquals(List.of("near-a", "near-b", "mid", "far", "slow"), List.copyOf(s.peers().keySet()));
        assertEquals(peers, s.peers(), "same links, only ordered");
        assertThrows(UnsupportedOperationException.class, () -> s.peers().put("x", LinkEstimate.mbps(1, 1)));
    }

    @Test
    void nullPeerNameOrLinkIsRejected() {
        Map<String, LinkEstimate> nullLink = new HashMap<>();
        nullLink.put("p", null);
        assertThrows(NullPointerException.class, () -> new NodeStatus("n", Map.of(), 1, 1, 0, Map.of(), nullLink));
        Map<String, LinkEstimate> nullName = new HashMap<>();
        nullName.put(null, LinkEstimate.mbps(1, 1));
        assertThrows(NullPointerException.class, () -> new NodeStatus("n", Map.of(), 1, 1, 0, Map.of(), nullName));
    }
}
