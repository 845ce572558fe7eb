package io.layerswarm.k8s.scoring;

import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores by predicted deployment time ({@link DeploymentTimeModel}): the fastest candidate gets 10, and
 * candidate n gets {@code 10 x (t_best + c) / (t_n + c)} with {@code c} one second, so sub-second
 * differences between nodes that hold almost everything do not swing the score.
 */
public final class PredictedTimeScorer implements NodeScorer {
    private static final double DAMPING_SECONDS = 1.0;
    private final DeploymentTimeModel model;

    /** @param model the time model */
    public PredictedTimeScorer(DeploymentTimeModel model) {
        this.model = model;
    }

    @Override
    public String name() {
        return "predicted-time";
    }

    @Override
    public Map<String, Double> score(PodLayers pod, List<String> candidates, ClusterView view) {
        Map<String, Double> seconds = new LinkedHashMap<>();
        double best = Double.POSITIVE_INFINITY;
        for (String node : candidates) {
            NodeStatus s = view.node(node).orElse(null);
            if (s != null) {
                double t = model.predict(pod, s, view).seconds();
                seconds.put(node, t);
                best = Math.min(best, t);
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (String node : candidates) {
            Double t = seconds.get(node);
            out.put(node, t == null ? 0.0 : NodeScorer.MAX * (best + DAMPING_SECONDS) / (t + DAMPING_SECONDS));
        }
        return out;
    }
}
