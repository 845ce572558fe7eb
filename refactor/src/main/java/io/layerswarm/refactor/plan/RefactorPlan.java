package io.layerswarm.refactor.plan;

import io.layerswarm.refactor.index.FileEntry;

import java.util.List;

/**
 * The layout of refactored images: a list of shared layers, and per image the shared layers it
 * uses (bottom first) topped by one layer of its own.
 *
 * @param options the options the plan was made with
 * @param shared the shared layers
 * @param images per input image, in input order
 */
public record RefactorPlan(PlanOptions options, List<SharedLayer> shared, List<ImagePlan> images) {

    /**
     * One shared layer.
     *
     * @param images indices of the images using it, ascending
     * @param entries its entries (files plus the parent directories every user agrees on)
     * @param bytes content bytes of its regular files
     */
    public record SharedLayer(List<Integer> images, List<FileEntry> entries, long bytes) {
        /** Copies. */
        public SharedLayer {
            images = List.copyOf(images);
            entries = List.copyOf(entries);
        }
    }

    /**
     * One refactored image.
     *
     * @param sharedLayers indices into {@link RefactorPlan#shared()}, bottom first
     * @param uniqueEntries the entries of the image's own top layer
     */
    public record ImagePlan(List<Integer> sharedLayers, List<FileEntry> uniqueEntries) {
        /** Copies. */
        public ImagePlan {
            sharedLayers = List.copyOf(sharedLayers);
            uniqueEntries = List.copyOf(uniqueEntries);
        }
    }

    /** Copies. */
    public RefactorPlan {
        shared = List.copyOf(shared);
        images = List.copyOf(images);
    }
}
