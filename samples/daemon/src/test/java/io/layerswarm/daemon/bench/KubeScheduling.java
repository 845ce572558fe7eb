package io.layerswarm.daemon.bench;

import java.util.List;
import java.util.Map;

/**
 * What kube-scheduler does with the plugin or extender scores in the testbed, as
 * {@code io.layerswarm.k8s.sim.PlacementSimulator} models it: a node whose pod slots are full is no
 * candidate; a candidate's total is {@code 10 x round(score)} (the 0..10 extender score, or the
 * ImageLocality plugin's score on the same scale) plus NodeResourcesLeastAllocated's
 * {@code 100 x (1 - running / slots)}; the highest total wins, ties to the first candidate.
 */
final class KubeScheduling {
    private KubeScheduling() {
    }

    /**
     * @param candidates nodes in preference order for ties
     * @param scores 0..10 per node (missing = 0)
     * @param running pods running per node
     * @param slots pods a node can run at once
     * @return the chosen node, or {@code null} if every candidate is full
     */
    static String pick(List<String> candidates, Map<String, ? extends Number> scores, Map<String, Integer> running,
                       int slots) {
        String best = null;
        double bestTotal = Double.NEGATIVE_INFINITY;
        for (String c : candidates) {
            int r = running.getOrDefault(c, 0);
            if (r >= slots) {
                continue;
            }
            Number s = scores.get(c);
            double total = 10.0 * Math.round(s == null ? 0 : s.doubleValue()) + 100.0 * (1 - (double) r / slots);
            if (total > bestTotal) {
                bestTotal = total;
                best = c;
            }
        }
        return best;
    }

    /** {@code node=value,...} in candidate order, values to two decimals (for the driver's log). */
    static String describe(List<String> candidates, Map<String, ? extends Number> values) {
        StringBuilder b = new StringBuilder();
        for (String c : candidates) {
            Number v = values.get(c);
            b.append(b.length() == 0 ? "" : ",").append(c).append('=')
                    .append(String.format(java.util.Locale.ROOT, "%.2f", v == null ? 0.0 : v.doubleValue()));
        }
        return b.toString();
    }
}
