package io.layerswarm.refactor.index;

import io.layerswarm.oci.Digest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Computes an {@link AnalysisReport} from visible image trees in one pass over their files. */
public final class RedundancyAnalyzer {
    private RedundancyAnalyzer() {
    }

    /** Analyses the given images. */
    public static AnalysisReport analyze(List<ImageTree> images) {
        Set<String> layerPaths = new HashSet<>();
        Map<String, Set<Digest>> layersOf = new HashMap<>();
        Map<String, Long> sizeOf = new HashMap<>();
        long files = 0;
        long total = 0;
        List<AnalysisReport.ImageStats> per = new ArrayList<>();
        for (ImageTree img : images) {
            Map<String, Set<Integer>> imgLayers = new HashMap<>();
            long imgFiles = 0;
            long imgBytes = 0;
            for (ImageTree.Visible v : img.paths().values()) {
                FileEntry e = v.entry();
                imgFiles++;
                Digest layer = img.layers().get(v.layer()).digest();
                boolean first = layerPaths.add(layer.hex() + '/' + e.path());
                if (first) {
                    files++;
                }
                if (!e.hasContent()) {
                    continue;
                }
                imgBytes += e.size();
                if (first) {
                    total += e.size();
                }
                sizeOf.put(e.sha256(), e.size());
                layersOf.computeIfAbsent(e.sha256(), k -> new HashSet<>()).add(layer);
                imgLayers.computeIfAbsent(e.sha256(), k -> new HashSet<>()).add(v.layer());
            }
            long[] img2 = redundantAndIdeal(imgLayers, sizeOf);
            per.add(new AnalysisReport.ImageStats(img.name(), img.layers().size(), imgFiles, imgBytes, img2[0], img2[1]));
        }
        long[] all = redundantAndIdeal(layersOf, sizeOf);
        return new AnalysisReport(images.size(), files, total, all[0], all[1], per);
    }

    /** {redundant, ideal}: copies beyond the first per content, and the distinct contents' bytes. */
    private static long[] redundantAndIdeal(Map<String, ? extends Set<?>> holders, Map<String, Long> sizeOf) {
        long redundant = 0;
        long ideal = 0;
        for (Map.Entry<String, ? extends Set<?>> c : holders.entrySet()) {
            long size = sizeOf.get(c.getKey());
            ideal += size;
            redundant += (c.getValue().size() - 1) * size;
        }
        return new long[] {redundant, ideal};
    }
}
