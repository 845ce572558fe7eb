package io.layerswarm.refactor;

import io.layerswarm.oci.Digest;
import io.layerswarm.refactor.build.BuiltLayer;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The figures of one refactoring, as the CLI prints them and BENCHMARKS.md reports them.
 *
 * @param mode {@code path} or {@code symlink}
 * @param images number of images
 * @param before registry figures of the originals
 * @param after registry figures of the refactored images
 * @param redundancyRemoved share of the redundant bytes removed (0..1)
 * @param sharedLayers number of shared layers
 * @param perImage per image
 * @param millis scan + plan + build time
 */
public record RefactorSummary(String mode, int images, Side before, Side after, double redundancyRemoved,
                              int sharedLayers, List<Image> perImage, long millis) {

    /**
     * Registry-side figures.
     *
     * @param registryBlobBytes distinct blob bytes (layers and configs)
     * @param redundantBytes duplicate file bytes across distinct layers
     * @param idealBytes distinct file content bytes
     * @param layers distinct layers
     */
    public record Side(long registryBlobBytes, long redundantBytes, long idealBytes, int layers) {
    }

    /**
     * One refactored image.
     *
     * @param image source image
     * @param layersBefore its layers before
     * @param layersAfter its layers after
     * @param sharedLayers how many of them are shared
     * @param sharedLayerShare share of its blob bytes in shared layers (0..1)
     */
    public record Image(String image, int layersBefore, int layersAfter, int sharedLayers, double sharedLayerShare) {
    }

    /** Summarises a result. */
    public static RefactorSummary of(Refactorer.Result r, List<SourceImage> sources) {
        Set<Digest> before = new HashSet<>();
        sources.forEach(s -> s.layers().forEach(d -> before.add(d.digest())));
        Set<Digest> after = new HashSet<>();
        List<Image> per = new ArrayList<>();
        for (int i = 0; i < r.images().size(); i++) {
            Refactorer.RefactoredImage img = r.images().get(i);
            long total = 0;
            long shared = 0;
            for (int l = 0; l < img.layers().size(); l++) {
                BuiltLayer b = img.layers().get(l);
                after.add(b.digest());
                total += b.size();
                shared += l < img.sharedLayers() ? b.size() : 0;
            }
            per.add(new Image(img.source(), sources.get(i).layers().size(), img.layers().size(), img.sharedLayers(),
                    total == 0 ? 0 : (double) shared / total));
        }
        long rb = r.before().redundantBytes();
        double removed = rb == 0 ? 0 : (double) (rb - r.after().redundantBytes()) / rb;
        return new RefactorSummary(r.plan().options().mode().name().toLowerCase(), r.images().size(),
                new Side(r.blobBytesBefore(), rb, r.before().idealBytes(), before.size()),
                new Side(r.blobBytesAfter(), r.after().redundantBytes(), r.after().idealBytes(), after.size()),
                removed, r.plan().shared().size(), per, r.millis());
    }
}
