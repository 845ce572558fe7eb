package io.layerswarm.k8s.view;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node's measured peer links ranked best first by {@link LinkEstimate#referenceThroughput()}, ties by
 * peer name. Ranked once when the node's status is built (a status record arrives), so that scoring walks
 * the ranking and stops at the first peer that matters instead of looking every holder up for every
 * candidate (nodes x nodes map look-ups per call).
 */
final class PeerRanking {
    private static final Comparator<Map.Entry<String, LinkEstimate>> BEST_FIRST =
            Comparator.<Map.Entry<String, LinkEstimate>>comparingDouble(e -> -e.getValue().referenceThroughput())
                    .thenComparing(Map.Entry::getKey);

    private PeerRanking() {
    }

    /**
     * An unmodifiable copy of {@code peers} whose iteration order is the ranking.
     *
     * @throws NullPointerException on a null name or link, as {@link Map#copyOf} would
     */
    static Map<String, LinkEstimate> bestFirst(Map<String, LinkEstimate> peers) {
        List<Map.Entry<String, LinkEstimate>> ranked = new ArrayList<>(peers.size());
        for (Map.Entry<String, LinkEstimate> e : peers.entrySet()) {
            ranked.add(Map.entry(e.getKey(), e.getValue())); // Map.entry rejects nulls
        }
        ranked.sort(BEST_FIRST);
        Map<String, LinkEstimate> out = new LinkedHashMap<>(Math.max(16, (int) (ranked.size() / 0.75f) + 1));
        for (Map.Entry<String, LinkEstimate> e : ranked) {
            out.put(e.getKey(), e.getValue());
        }
        return Collections.unmodifiableMap(out);
    }
}
