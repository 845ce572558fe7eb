package io.layerswarm.refactor;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.refactor.build.BuiltLayer;
import io.layerswarm.refactor.build.ContentStash;
import io.layerswarm.refactor.build.ImageAssembler;
import io.layerswarm.refactor.build.LayerWriter;
import io.layerswarm.refactor.delta.DeltaPlanner;
import io.layerswarm.refactor.index.AnalysisReport;
import io.layerswarm.refactor.index.ContentSink;
import io.layerswarm.refactor.index.ContentTable;
import io.layerswarm.refactor.index.FileEntry;
import io.layerswarm.refactor.index.ImageTree;
import io.layerswarm.refactor.index.LayerScanner;
import io.layerswarm.refactor.index.RedundancyAnalyzer;
import io.layerswarm.refactor.index.ScannedLayer;
import io.layerswarm.refactor.plan.PlanOptions;
import io.layerswarm.refactor.plan.RefactorPlan;
import io.layerswarm.refactor.plan.SharedLayerPlanner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Facade of the refactor module: analyses the file-level redundancy of a set of images, rebuilds
 * them as shared + unique layers with an unchanged root filesystem, and computes delta layers.
 * Layers are streamed once each (layers shared by digest are read once); only refactoring and
 * deltas keep file contents, deduplicated by sha256, in the work directory.
 */
public final class Refactorer {
    private static final Logger LOG = LoggerFactory.getLogger(Refactorer.class);

    private final Path workDir;

    /** A refactorer using {@code workDir} for scratch contents and built layers. */
    public Refactorer(Path workDir) {
        this.workDir = workDir;
    }

    /** The result of an analysis: the visible trees, the content mapping table and the figures. */
    public record Analysis(List<ImageTree> trees, ContentTable contents, AnalysisReport report) {
    }

    /**
     * One refactored image.
     *
     * @param source the source image name
     * @param assembled its new config and manifest
     * @param layers its layers, bottom first
     * @param sharedLayers how many of them are shared layers
     */
    public record RefactoredImage(String source, ImageAssembler.Assembled assembled, List<BuiltLayer> layers,
                                  int sharedLayers) {
    }

    /**
     * The result of a refactoring.
     *
     * @param plan the layer plan
     * @param images refactored images, in input order
     * @param before analysis of the originals
     * @param after analysis of the refactored images
     * @param blobBytesBefore distinct blob bytes (layers + configs) of the originals
     * @param blobBytesAfter distinct blob bytes of the refactored images
     * @param millis wall time of scan, plan and build
     */
    public record Result(RefactorPlan plan, List<RefactoredImage> images, AnalysisReport before,
                         AnalysisReport after, long blobBytesBefore, long blobBytesAfter, long millis) {
    }

    /**
     * A delta layer.
     *
     * @param layer the delta layer blob
     * @param entries its entries
     * @param updateBytes blob bytes of the target's layers the source image does not have
     * @param duplicatedBytes file bytes in those layers whose content the source image already has
     */
    public record Delta(BuiltLayer layer, List<FileEntry> entries, long updateBytes, long duplicatedBytes) {
        /** Blob size of the delta layer. */
        public long deltaBytes() {
            return layer.size();
        }
    }

    /** Streams every layer of {@code images} and reports their redundancy. */
    public Analysis analyze(List<SourceImage> images, BlobSource blobs) throws IOException {
        List<ImageTree> trees = scan(images, blobs, null, new HashMap<>());
        return new Analysis(trees, ContentTable.of(trees), RedundancyAnalyzer.analyze(trees));
    }

    /** Rebuilds {@code images} as shared + unique layers; blobs are written under the work directory. */
    public Result refactor(List<SourceImage> images, BlobSource blobs, PlanOptions options) throws IOException {
        long start = System.nanoTime();
        ContentStash stash = new ContentStash(workDir.resolve("contents"));
        List<ImageTree> trees = scan(images, blobs, stash, new HashMap<>());
        AnalysisReport before = RedundancyAnalyzer.analyze(trees);
        RefactorPlan plan = SharedLayerPlanner.plan(trees, options);
        Path blobDir = workDir.resolve("blobs");
        List<BuiltLayer> shared = new ArrayList<>();
        for (RefactorPlan.SharedLayer s : plan.shared()) {
            shared.add(LayerWriter.write(s.entries(), stash, blobDir));
        }
        List<RefactoredImage> out = new ArrayList<>();
        List<ImageTree> afterTrees = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            RefactorPlan.ImagePlan ip = plan.images().get(i);
            List<ImageAssembler.LayerInfo> infos = new ArrayList<>();
            List<ScannedLayer> scanned = new ArrayList<>();
            for (int li : ip.sharedLayers()) {
                RefactorPlan.SharedLayer s = plan.shared().get(li);
                infos.add(new ImageAssembler.LayerInfo(shared.get(li), "layerswarm refactor: shared layer " + li
                        + " of " + s.images().size() + " images, mode=" + options.mode().name().toLowerCase()));
                scanned.add(asScanned(shared.get(li), s.entries()));
            }
            BuiltLayer unique = LayerWriter.write(ip.uniqueEntries(), stash, blobDir);
            infos.add(new ImageAssembler.LayerInfo(unique, "layerswarm refactor: files of " + images.get(i).name()));
            scanned.add(asScanned(unique, ip.uniqueEntries()));
            ImageAssembler.Assembled a = ImageAssembler.assemble(images.get(i).config(), infos,
                    Map.of("io.layerswarm.refactor.source", images.get(i).name()));
            List<BuiltLayer> layers = new ArrayList<>(infos.size());
            infos.forEach(l -> layers.add(l.layer()));
            out.add(new RefactoredImage(images.get(i).name(), a, layers, ip.sharedLayers().size()));
            afterTrees.add(ImageTree.of(images.get(i).name(), scanned));
        }
        AnalysisReport after = RedundancyAnalyzer.analyze(afterTrees);
        long millis = (System.nanoTime() - start) / 1_000_000;
        Result r = new Result(plan, out, before, after, blobBytesBefore(images), blobBytesAfter(out), millis);
        LOG.info("refactor images={} mode={} sharedLayers={} redundantBefore={} redundantAfter={} blobBefore={} blobAfter={} ms={}",
                images.size(), options.mode(), shared.size(), before.redundantBytes(), after.redundantBytes(),
                r.blobBytesBefore(), r.blobBytesAfter(), millis);
        return r;
    }

    /** Builds the delta layer that turns {@code from}'s root filesystem into {@code to}'s. */
    public Delta delta(SourceImage from, SourceImage to, BlobSource blobs) throws IOException {
        ContentStash stash = new ContentStash(workDir.resolve("contents"));
        Map<Digest, ScannedLayer> cache = new HashMap<>();
        ImageTree b = scan(List.of(to), blobs, stash, cache).get(0);
        ImageTree a = scan(List.of(from), blobs, null, cache).get(0);
        List<FileEntry> entries = DeltaPlanner.plan(a, b);
        BuiltLayer layer = LayerWriter.write(entries, stash, workDir.resolve("blobs"));
        Set<Digest> inA = new HashSet<>();
        from.layers().forEach(d -> inA.add(d.digest()));
        Set<Integer> updateLayers = new HashSet<>();
        long updateBytes = 0;
        for (int i = 0; i < to.layers().size(); i++) {
            Descriptor d = to.layers().get(i);
            if (!inA.contains(d.digest()) && updateLayers.add(i)) {
                updateBytes += d.size();
            }
        }
        Set<String> contentOfA = a.contentDigests();
        long duplicated = 0;
        for (ImageTree.Visible v : b.paths().values()) {
            if (updateLayers.contains(v.layer()) && v.entry().hasContent() && contentOfA.contains(v.entry().sha256())) {
                duplicated += v.entry().size();
            }
        }
        LOG.info("delta from={} to={} updateBytes={} duplicatedBytes={} deltaBytes={} entries={}",
                from.name(), to.name(), updateBytes, duplicated, layer.size(), entries.size());
        return new Delta(layer, entries, updateBytes, duplicated);
    }

    private static List<ImageTree> scan(List<SourceImage> images, BlobSource blobs, ContentSink sink,
                                        Map<Digest, ScannedLayer> cache) throws IOException {
        List<ImageTree> trees = new ArrayList<>();
        for (SourceImage img : images) {
            List<ScannedLayer> layers = new ArrayList<>();
            for (Descriptor d : img.layers()) {
                ScannedLayer s = cache.get(d.digest());
                if (s == null) {
                    try (InputStream in = blobs.open(d)) {
                        s = LayerScanner.scan(in, d.mediaType(), d.digest(), sink);
                    }
                    cache.put(d.digest(), s);
                    LOG.debug("scanned layer={} entries={} image={}", d.digest().shortHex(12), s.entries().size(), img.name());
                }
                layers.add(s);
            }
            trees.add(ImageTree.of(img.name(), layers));
        }
        return trees;
    }

    private static ScannedLayer asScanned(BuiltLayer l, List<FileEntry> entries) {
        return new ScannedLayer(l.digest(), l.diffId(), l.size(), entries);
    }

    private static long blobBytesBefore(List<SourceImage> images) {
        Map<Digest, Long> blobs = new LinkedHashMap<>();
        for (SourceImage img : images) {
            blobs.put(Digest.sha256(img.config()), (long) img.config().length);
            img.layers().forEach(d -> blobs.put(d.digest(), d.size()));
        }
        return blobs.values().stream().mapToLong(Long::longValue).sum();
    }

    private static long blobBytesAfter(List<RefactoredImage> images) {
        Map<Digest, Long> blobs = new LinkedHashMap<>();
        for (RefactoredImage img : images) {
            blobs.put(img.assembled().configDigest(), (long) img.assembled().config().length);
            img.layers().forEach(l -> blobs.put(l.digest(), l.size()));
        }
        return blobs.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The work directory. */
    public Path workDir() {
        return workDir;
    }

}
