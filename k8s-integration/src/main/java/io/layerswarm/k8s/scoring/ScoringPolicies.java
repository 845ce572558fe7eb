package io.layerswarm.k8s.scoring;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The named scoring policies {@code --scoring} accepts. */
public final class ScoringPolicies {
    /** Accepted names. */
    public static final List<String> NAMES = List.of("image-locality", "layer-locality", "layer-network", "predicted-time");

    private ScoringPolicies() {
    }

    /**
     * The policy named {@code name}: {@code image-locality} (in-tree baseline), {@code layer-locality},
     * {@code layer-network} (0.7 LayerLocality + 0.3 NetworkPerformance, the default), {@code predicted-time}.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static NodeScorer create(String name, DeploymentTimeModel model) {
        return switch (name) {
            case "image-locality" -> new ImageLocalityScorer();
            case "layer-locality" -> new LayerLocalityScorer();
            case "layer-network" -> {
                Map<NodeScorer, Double> parts = new LinkedHashMap<>();
                parts.put(new LayerLocalityScorer(), 0.7);
                parts.put(new NetworkPerformanceScorer(), 0.3);
                yield new WeightedScorer("layer-network", parts);
            }
            case "predicted-time" -> new PredictedTimeScorer(model);
            default -> throw new IllegalArgumentException("unknown scoring policy '" + name + "', expected one of " + NAMES);
        };
    }
}
