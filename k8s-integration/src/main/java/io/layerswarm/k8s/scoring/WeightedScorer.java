package io.layerswarm.k8s.scoring;

import io.layerswarm.k8s.view.ClusterView;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A weighted mean of other policies (weights are normalised to sum 1, so the result stays 0..10). */
public final class WeightedScorer implements NodeScorer {
    private final String name;
    private final Map<NodeScorer, Double> parts;

    /**
     * @param name the combined policy's name
     * @param parts policies and their positive weights
     */
    public WeightedScorer(String name, Map<NodeScorer, Double> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("no scorers");
        }
        double sum = 0;
        for (double w : parts.values()) {
            if (!(w > 0)) {
                throw new IllegalArgumentException("weights must be positive, got " + w);
            }
            sum += w;
        }
        Map<NodeScorer, Double> normalised = new LinkedHashMap<>();
        for (Map.Entry<NodeScorer, Double> e : parts.entrySet()) {
            normalised.put(e.getKey(), e.getValue() / sum);
        }
        this.name = name;
        this.parts = normalised;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Map<String, Double> score(PodLayers pod, List<String> candidates, ClusterView view) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String c : candidates) {
            out.put(c, 0.0);
        }
        for (Map.Entry<NodeScorer, Double> e : parts.entrySet()) {
            Map<String, Double> s = e.getKey().score(pod, candidates, view);
            for (String c : candidates) {
                out.merge(c, e.getValue() * s.getOrDefault(c, 0.0), Double::sum);
            }
        }
        return out;
    }
}
