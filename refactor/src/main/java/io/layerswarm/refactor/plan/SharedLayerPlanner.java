package io.layerswarm.refactor.plan;

import io.layerswarm.refactor.index.FileEntry;
import io.layerswarm.refactor.index.FileType;
import io.layerswarm.refactor.index.ImageTree;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Plans shared layers. Each image is rebuilt from its visible root filesystem, so every path lives in
 * exactly one of the image's new layers and no override or whiteout of the original layering can
 * come out wrong: the visible winner of an override is the only version written, whited-out paths
 * are simply absent. Files are grouped by the exact set of images holding an identical entry
 * (content, type, mode, owner, link target, xattrs) at the same path; each group with two or more
 * images becomes a shared layer. Directories are written with each image's own attributes in its
 * top layer; shared layers carry a parent directory only where all their users agree on it.
 * Hard-linked paths stay in the image's own layer so links and targets stay together.
 */
public final class SharedLayerPlanner {
    /** Directory holding shared contents in {@link Mode#SYMLINK}. */
    public static final String SHARED_DIR = ".layerswarm-shared";

    private SharedLayerPlanner() {
    }

    /** Plans the refactoring of {@code images} (indices in the plan follow this list). */
    public static RefactorPlan plan(List<ImageTree> images, PlanOptions options) {
        List<Set<String>> pinned = new ArrayList<>();
        for (ImageTree img : images) {
            pinned.add(img.hardLinkedPaths());
        }
        // key -> images holding it, ascending; plus one representative entry per key.
        Map<String, List<Integer>> holders = new LinkedHashMap<>();
        Map<String, FileEntry> representative = new HashMap<>();
        for (int i = 0; i < images.size(); i++) {
            Set<String> seen = new HashSet<>();
            for (FileEntry e : images.get(i).entries()) {
                if (!eligible(e, pinned.get(i), options)) {
                    continue;
                }
                String key = shareKey(e, options.mode());
                if (key == null || !seen.add(key)) {
                    continue;
                }
                holders.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
                representative.putIfAbsent(key, e);
            }
        }
        // Group keys by their exact holder set.
        Map<List<Integer>, Group> groups = new HashMap<>();
        for (Map.Entry<String, List<Integer>> h : holders.entrySet()) {
            if (h.getValue().size() < 2) {
                continue;
            }
            Group g = groups.computeIfAbsent(List.copyOf(h.getValue()), Group::new);
            FileEntry rep = representative.get(h.getKey());
            g.keys.add(h.getKey());
            g.files.add(options.mode() == Mode.SYMLINK ? rep.withPath(SHARED_DIR + "/" + rep.sha256()) : rep);
            g.bytes += rep.hasContent() ? rep.size() : 0;
        }
        List<Group> kept = capLayers(new ArrayList<>(groups.values()), images.size(), options.maxLayers());
        kept.sort(Comparator.comparingInt((Group g) -> -g.images.size()).thenComparingLong(g -> -g.bytes)
                .thenComparing(g -> g.files.get(0).path()));

        Map<String, Integer> keyToLayer = new HashMap<>();
        List<RefactorPlan.SharedLayer> shared = new ArrayList<>();
        for (int li = 0; li < kept.size(); li++) {
            Group g = kept.get(li);
            for (String k : g.keys) {
                keyToLayer.put(k, li);
            }
            shared.add(new RefactorPlan.SharedLayer(g.images, withParents(g, images, options.mode()), g.bytes));
        }
        List<RefactorPlan.ImagePlan> plans = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            plans.add(imagePlan(images.get(i), pinned.get(i), options, keyToLayer, i, kept));
        }
        return new RefactorPlan(options, shared, plans);
    }

    private static boolean eligible(FileEntry e, Set<String> pinned, PlanOptions o) {
        if (e.type() == FileType.DIRECTORY || e.type() == FileType.HARDLINK || pinned.contains(e.path())) {
            return false;
        }
        if (o.mode() == Mode.SYMLINK && e.type() != FileType.REGULAR) {
            return false;
        }
        return (e.hasContent() ? e.size() : 0) >= o.minFileSize();
    }

    private static String shareKey(FileEntry e, Mode mode) {
        return mode == Mode.PATH ? e.identityKey() : e.sha256();
    }

    /** Dissolves the groups saving least until no image needs more than {@code maxLayers} layers. */
    private static List<Group> capLayers(List<Group> groups, int imageCount, int maxLayers) {
        int[] count = new int[imageCount];
        for (Group g : groups) {
            for (int i : g.images) {
                count[i]++;
            }
        }
        int allowed = maxLayers - 1; // one layer per image is its own
        groups.sort(Comparator.comparingLong(Group::savings).thenComparing(g -> g.files.get(0).path()));
        List<Group> kept = new ArrayList<>();
        for (Group g : groups) {
            boolean over = false;
            for (int i : g.images) {
                over |= count[i] > allowed;
            }
            if (over) {
                for (int i : g.images) {
                    count[i]--;
                }
            } else {
                kept.add(g);
            }
        }
        return kept;
    }

    private static List<FileEntry> withParents(Group g, List<ImageTree> images, Mode mode) {
        TreeMap<String, FileEntry> out = new TreeMap<>();
        for (FileEntry f : g.files) {
            out.put(f.path(), f);
            if (mode == Mode.SYMLINK) {
                out.putIfAbsent(SHARED_DIR, new FileEntry(SHARED_DIR, FileType.DIRECTORY, 0755, 0, 0, 0, null, null,
                        0, 0, 0, Map.of()));
                continue;
            }
            for (String dir = parent(f.path()); dir != null && !out.containsKey(dir); dir = parent(dir)) {
                FileEntry agreed = images.get(g.images.get(0)).get(dir);
                for (int i : g.images) {
                    FileEntry d = images.get(i).get(dir);
                    if (agreed == null || d == null || !d.sameFileAs(agreed)) {
                        agreed = null;
                        break;
                    }
                }
                if (agreed != null) {
                    out.put(dir, agreed);
                }
            }
        }
        return new ArrayList<>(out.values());
    }

    private static RefactorPlan.ImagePlan imagePlan(ImageTree img, Set<String> pinned, PlanOptions o,
                                                    Map<String, Integer> keyToLayer, int index, List<Group> kept) {
        List<FileEntry> unique = new ArrayList<>();
        for (FileEntry e : img.entries()) {
            Integer layer = eligible(e, pinned, o) ? keyToLayer.get(shareKey(e, o.mode())) : null;
            if (layer == null) {
                unique.add(materialise(e, img));
            } else if (o.mode() == Mode.SYMLINK) {
                unique.add(e.asSymlink("/" + SHARED_DIR + "/" + e.sha256()));
            }
        }
        List<Integer> used = new ArrayList<>();
        for (int li = 0; li < kept.size(); li++) {
            if (kept.get(li).images.contains(index)) {
                used.add(li);
            }
        }
        return new RefactorPlan.ImagePlan(used, unique);
    }

    /** A hard link stays a link only when its target is visible with the very same content. */
    private static FileEntry materialise(FileEntry e, ImageTree img) {
        if (e.type() != FileType.HARDLINK) {
            return e;
        }
        FileEntry target = img.get(e.linkTarget());
        if (target != null && target.type() == FileType.REGULAR && target.sha256().equals(e.sha256())) {
            return e;
        }
        return e.asRegular();
    }

    static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? null : path.substring(0, slash);
    }

    private static final class Group {
        final List<Integer> images;
        final List<String> keys = new ArrayList<>();
        final List<FileEntry> files = new ArrayList<>();
        long bytes;

        Group(List<Integer> images) {
            this.images = images;
        }

        long savings() {
            return bytes * (images.size() - 1) + 1; // +1: even empty-content groups (symlinks) save entries
        }
    }
}
