package io.layerswarm.k8s.sim;

import io.layerswarm.cache.policy.ImageRequest;
import io.layerswarm.cache.policy.LayerRef;
import io.layerswarm.cache.sim.ImageCatalog;
import io.layerswarm.k8s.scoring.ImageLayers;
import io.layerswarm.k8s.scoring.LayerInfo;
import io.layerswarm.k8s.scoring.LayerResolver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Resolves images from an images file (the cache simulator's format) instead of a registry. */
public final class CatalogLayerResolver implements LayerResolver {
    /** The registry name catalog images are given. */
    public static final String REGISTRY = "registry";
    private final ImageCatalog catalog;

    /** @param catalog image name to layers */
    public CatalogLayerResolver(ImageCatalog catalog) {
        this.catalog = catalog;
    }

    @Override
    public CompletableFuture<ImageLayers> resolve(String image) {
        ImageRequest req = catalog.get(image);
        if (req == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("image " + image + " is not in the images file"));
        }
        return CompletableFuture.completedFuture(layers(image, req));
    }

    /** The catalog entry as resolved layers. */
    static ImageLayers layers(String image, ImageRequest req) {
        List<LayerInfo> layers = new ArrayList<>(req.layers().size());
        for (LayerRef l : req.layers()) {
            layers.add(new LayerInfo(l.key(), l.size()));
        }
        return new ImageLayers(image, REGISTRY, "sha256:" + image, layers);
    }
}
