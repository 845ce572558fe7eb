package io.layerswarm.k8s.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.view.ClusterSnapshot;
import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * NetworkPerformance walks each candidate's ranked peer links and stops early; its scores must be the very
 * doubles of the exhaustive algorithm it replaced (every holder looked up for every candidate), kept here
 * as {@link #reference}. Random clusters from fixed seeds: missing links, links to unknown peers and to the
 * node itself, ties between peers and with the registry path, nodes holding nothing, unknown candidates.
 */
class NetworkPerformanceEquivalenceTest {
    private static final List<String> REGISTRIES = List.of("r1.example", "r2.example", "r3.example");
    /** Few distinct figures, so that ties between links (and with registry links) are common. */
    private static final double[] BYTES_PER_SECOND = {1.25e5, 1.25e6, 1.25e7, 1.25e8, 1.25e9};
    private static final double[] RTT_MILLIS = {0, 0.5, 5, 50, 200};

    @Test
    void rankedWalkScoresExactlyAsTheExhaustiveScan() {
        NetworkPerformanceScorer scorer = new NetworkPerformanceScorer();
        int nonZero = 0;
        int peerWins = 0;
        for (long seed = 1; seed <= 400; seed++) {
            Random r = new Random(seed);
            List<LayerInfo> layers = layers(r);
            MutableClusterView live = cluster(r, layers);
            PodLayers pod = Fixtures.randomPod(r, layers, REGISTRIES, false);
            List<String> candidates = Fixtures.randomCandidates(r, live);
            ClusterView view = ClusterSnapshot.of(live);
            Map<String, Double> expected = reference(pod, candidates, view);
            Map<String, Double> actual = scorer.score(pod, candidates, view);
            assertEquals(expected, actual, "seed " + seed);
            assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()), "candidate order, seed " + seed);
            nonZero += expected.values().stream().filter(v -> v > 0).count();
            peerWins += peerPathWins(pod, candidates, view);
        }
        // the generator must exercise both kinds of best path, or the test proves little
        assertTrue(nonZero > 1000, "non-zero scores: " + nonZero);
        assertTrue(peerWins > 500, "candidates whose best path is a peer: " + peerWins);
    }

    private static List<LayerInfo> layers(Random r) {
        List<LayerInfo> out = new ArrayList<>();
        int n = 1 + r.nextInt(12);
        for (int i = 0; i < n; i++) {
            out.add(new LayerInfo("sha256:l" + i, 1 + r.nextInt(1 << 26)));
        }
        return out;
    }

    private static MutableClusterView cluster(Random r, List<LayerInfo> layers) {
        int n = 1 + r.nextInt(25);
        double linkDensity = r.nextDouble();
        double holdDensity = r.nextDouble() * 0.6;
        MutableClusterView view = new MutableClusterView();
        for (int i = 0; i < n; i++) {
            Map<String, Long> held = new LinkedHashMap<>();
            for (LayerInfo l : layers) {
                if (r.nextDouble() < holdDensity) {
                    held.put(l.digest(), l.size());
                }
            }
            Map<String, LinkEstimate> registries = new HashMap<>();
            for (String reg : List.of(REGISTRIES.get(0), REGISTRIES.get(1), "*")) {
                if (r.nextInt(3) > 0) {
                    registries.put(reg, link(r));
                }
            }
            Map<String, LinkEstimate> peers = new HashMap<>();
            for (int j = 0; j < n; j++) {
                if ((j != i || r.nextInt(10) == 0) && r.nextDouble() < linkDensity) {
                    peers.put("n" + j, link(r));
                }
            }
            if (r.nextInt(4) == 0) {
                peers.put("12D3KooWunknown" + r.nextInt(3), link(r)); // a peer id no record speaks for
            }
            view.put(new NodeStatus("n" + i, held, 1L << 40, 1L << 39, 0, registries, peers));
        }
        return view;
    }

    private static LinkEstimate link(Random r) {
        return new LinkEstimate(BYTES_PER_SECOND[r.nextInt(BYTES_PER_SECOND.length)], RTT_MILLIS[r.nextInt(RTT_MILLIS.length)]);
    }



    /** Candidates whose best path is a peer holding a layer (strictly faster than their registry path). */
    private static int peerPathWins(PodLayers pod, List<String> candidates, ClusterView view) {
        Set<String> holders = holdersOfAny(pod, view);
        int wins = 0;
        for (String c : candidates) {
            NodeStatus s = view.node(c).orElse(null);
            if (s != null && peerBest(s, holders) > registryBest(s, pod)) {
                wins++;
            }
        }
        return wins;
    }

    // ---- the algorithm before the ranking (same arithmetic, split in helpers): every holder for every candidate ----

    private static final long REFERENCE_BYTES = 16L << 20;

    static Map<String, Double> reference(PodLayers pod, List<String> candidates, ClusterView view) {
        Map<String, Double> thr = new LinkedHashMap<>();
        double best = 0;
        Set<String> holdersOfAny = holdersOfAny(pod, view);
        for (String node : candidates) {
            NodeStatus s = view.node(node).orElse(null);
            if (s == null) {
                continue;
            }
            double t = Math.max(registryBest(s, pod), peerBest(s, holdersOfAny));
            thr.put(node, t);
            best = Math.max(best, t);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (String node : candidates) {
            Double t = thr.get(node);
            out.put(node, t == null || best == 0 ? 0.0 : NodeScorer.MAX * t / best);
        }
        return out;
    }

    private static Set<String> holdersOfAny(PodLayers pod, ClusterView view) {
        Set<String> holdersOfAny = new HashSet<>();
        for (LayerInfo l : pod.distinctLayers()) {
            view.holding(l.digest()).forEach(h -> holdersOfAny.add(h.nodeName()));
        }
        return holdersOfAny;
    }

    private static double registryBest(NodeStatus s, PodLayers pod) {
        double best = 0;
        for (ImageLayers image : pod.images()) {
            best = Math.max(best, of(s.registryLink(image.registry())));
        }
        return best;
    }

    private static double peerBest(NodeStatus s, Set<String> holdersOfAny) {
        double best = 0;
        for (String holder : holdersOfAny) {
            LinkEstimate link = s.peers().get(holder);
            if (link != null) {
                best = Math.max(best, of(link));
            }
        }
        return best;
    }

    private static double of(LinkEstimate link) {
        return link == null ? 0 : REFERENCE_BYTES / link.seconds(REFERENCE_BYTES);
    }
}
