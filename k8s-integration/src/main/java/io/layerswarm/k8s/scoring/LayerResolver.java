package io.layerswarm.k8s.scoring;

import java.util.concurrent.CompletableFuture;

/** Resolves an image reference to its layers for the scheduler's platform. */
public interface LayerResolver {

    /**
     * Resolves {@code image}; completes exceptionally with the reason when it cannot. Implementations
     * answer repeated references from memory.
     */
    CompletableFuture<ImageLayers> resolve(String image);
}
