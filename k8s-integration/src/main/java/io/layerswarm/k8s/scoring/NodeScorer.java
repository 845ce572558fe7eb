package io.layerswarm.k8s.scoring;

import io.layerswarm.k8s.view.ClusterView;
import java.util.List;
import java.util.Map;

/**
 * A scoring policy. Scores are 0..{@value #MAX} per candidate; the engine rounds them for the wire.
 * Candidates the view does not know get 0 (they are reported, not failed).
 */
public interface NodeScorer {
    /** The top score; equal to the extender protocol's {@code MaxExtenderPriority}. */
    double MAX = 10;

    /** The policy's name, as used by {@code --scoring}. */
    String name();

    /**
     * Scores every candidate.
     *
     * @param pod the pod's resolved layers
     * @param candidates node names the scheduler offers
     * @param view the cluster view
     * @return a score for each candidate, 0..10
     */
    Map<String, Double> score(PodLayers pod, List<String> candidates, ClusterView view);
}
