package io.layerswarm.refactor.index;

import java.util.List;

/**
 * Redundancy of a set of images. {@code redundantBytes} counts, for every file content, the copies
 * beyond the first across distinct layers; {@code idealBytes} is the size of the distinct contents,
 * the bound no layering can beat. {@code totalBytes} counts each visible file once per distinct
 * layer it sits in (a layer shared by digest counts once).
 *
 * @param images number of images
 * @param files distinct visible entries (per distinct layer and path)
 * @param totalBytes content bytes of those entries
 * @param redundantBytes bytes of duplicate contents across distinct layers
 * @param idealBytes bytes of distinct contents
 * @param perImage the same figures per image
 */
public record AnalysisReport(int images, long files, long totalBytes, long redundantBytes, long idealBytes,
                             List<ImageStats> perImage) {

    /**
     * Figures of one image.
     *
     * @param image image name
     * @param layers number of layers
     * @param files visible entries
     * @param bytes content bytes of visible regular files
     * @param redundantBytes copies of a content beyond the first across this image's layers
     * @param idealBytes bytes of the distinct contents of this image
     */
    public record ImageStats(String image, int layers, long files, long bytes, long redundantBytes, long idealBytes) {
    }

    /** Copies. */
    public AnalysisReport {
        perImage = List.copyOf(perImage);
    }

    /** Share of the total bytes that is redundant, 0 when empty. */
    public double redundantShare() {
        return totalBytes == 0 ? 0 : (double) redundantBytes / totalBytes;
    }
}
