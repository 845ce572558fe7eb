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
 * images becomes a shared layer. A hard-linked file moves only together with all its links (same
 * paths in every image of the group), so links and targets always sit in one layer. Directories are
 * written with each image's own attributes in its top layer; shared layers carry a parent directory
 * only where all their users agree on it.
 */
public final class SharedLayerPlanner {
    /** Directory holding shared contents in {@link Mode#SYMLINK}. */
    public static final String SHARED_DIR = ".layerswarm-shared";

    private SharedLayerPlanner() {
    }

    /**
     * What moves as one piece: a single entry, or a hard-link target with the links to it.
     *
     * @param key equal for units that may share a layer
     * @param entries the target (or single entry) first, then its links
     * @param bytes content bytes
     */
    private record Unit(String key, List<FileEntry> entries, long bytes) {
        FileEntry head() {
            return entries.get(0);
        }
    }

    /** The units of one image: those that may be shared, and the entries that stay in its own layer. */
    private record ImageUnits(List<Unit> shareable, List<FileEntry> own) {
    }

    /** Plans the refactoring of {@code images} (indices in the plan follow this list). */
    public static RefactorPlan plan(List<ImageTree> images, PlanOptions options) {
        List<ImageUnits> units = new ArrayList<>();
        for (ImageTree img : images) {
            units.add(units(img, options));
        }
        // key -> images holding it, ascending; plus one representative unit per key.
        Map<String, List<Integer>> holders = new LinkedHashMap<>();
        Map<String, Unit> representative = new HashMap<>();
        for (int i = 0; i < images.size(); i++) {
            Set<String> seen = new HashSet<>();
            for (Unit u : units.get(i).shareable()) {
                if (seen.add(u.key())) {
                    holders.computeIfAbsent(u.key(), k -> new ArrayList<>()).add(i);
                    representative.putIfAbsent(u.key(), u);
                }
            }
        }
        // Group keys by their exact holder set.
        Map<List<Integer>, Group> groups = new HashMap<>();
        for (Map.Entry<String, List<Integer>> h : holders.entrySet()) {
            if (h.getValue().size() < 2) {
                continue;
            }
            Group g = groups.computeIfAbsent(List.copyOf(h.getValue()), Group::new);
            Unit rep = representative.get(h.getKey());
            g.keys.add(h.getKey());
            if (options.mode() == Mode.SYMLINK) {
                g.files.add(rep.head().withPath(SHARED_DIR + "/" + rep.head().sha256()));
            } else {
                g.files.addAll(rep.entries());
            }
            g.bytes += rep.bytes();
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
            plans.add(imagePlan(units.get(i), options, keyToLayer, i, kept));
        }
        return new RefactorPlan(options, shared, plans);
    }

    /**
     * Splits an image into units. A hard link stays a link only when its target is visible with the
     * very same content; otherwise it becomes a regular file of its own.
     */
    private static ImageUnits units(ImageTree img, PlanOptions o) {
        Map<String, List<FileEntry>> linksTo = new HashMap<>();
        for (FileEntry e : img.entries()) {
            // The research layout sees every path on its own: a hard link is just another copy there.
            if (e.type() == FileType.HARDLINK && linkable(e, img) && o.mode() == Mode.PATH) {
                linksTo.computeIfAbsent(e.linkTarget(), k -> new ArrayList<>()).add(e);
            }
        }
        List<Unit> shareable = new ArrayList<>();
        List<FileEntry> own = new ArrayList<>();
        for (FileEntry e : img.entries()) {
            if (e.type() == FileType.DIRECTORY) {
                own.add(e);
                continue;
            }
            if (e.type() == FileType.HARDLINK) {
                if (!linkable(e, img) || o.mode() == Mode.SYMLINK) {
                    classify(single(e.asRegular(), o.mode()), shareable, own, o);
                }
                continue; // a linkable link travels with its target
            }
            List<FileEntry> links = linksTo.get(e.path());
            if (links == null) {
                classify(single(e, o.mode()), shareable, own, o);
                continue;
            }
            List<FileEntry> all = new ArrayList<>(links.size() + 1);
            all.add(e);
            links.stream().sorted(Comparator.comparing(FileEntry::path)).forEach(all::add);
            StringBuilder key = new StringBuilder(e.identityKey());
            for (int i = 1; i < all.size(); i++) {
                key.append("\0link\0").append(all.get(i).path());
            }
            classify(new Unit(key.toString(), all, e.size()), shareable, own, o);
        }
        return new ImageUnits(shareable, own);
    }

    private static Unit single(FileEntry e, Mode mode) {
        String key = mode == Mode.PATH ? e.identityKey() : e.type() == FileType.REGULAR ? e.sha256() : null;
        return new Unit(key, List.of(e), e.hasContent() ? e.size() : 0);
    }

    private static void classify(Unit u, List<Unit> shareable, List<FileEntry> own, PlanOptions o) {
        if (u.key() != null && u.bytes() >= o.minFileSize()) {
            shareable.add(u);
        } else {
            own.addAll(u.entries());
        }
    }

    private static boolean linkable(FileEntry link, ImageTree img) {
        FileEntry target = img.get(link.linkTarget());
        return target != null && target.type() == FileType.REGULAR && target.sha256().equals(link.sha256());
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

    private static RefactorPlan.ImagePlan imagePlan(ImageUnits units, PlanOptions o, Map<String, Integer> keyToLayer,
                                                    int index, List<Group> kept) {
        List<FileEntry> unique = new ArrayList<>(units.own());
        for (Unit u : units.shareable()) {
            Integer layer = keyToLayer.get(u.key());
            if (layer == null) {
                unique.addAll(u.entries());
            } else if (o.mode() == Mode.SYMLINK) {
                FileEntry e = u.head();
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
