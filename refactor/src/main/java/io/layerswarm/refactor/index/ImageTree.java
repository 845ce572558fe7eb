package io.layerswarm.refactor.index;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * The root filesystem one image presents after applying its layers in order, as metadata only:
 * for every visible path, the entry and the index of the layer it comes from. Files shadowed by an
 * upper layer, removed by a whiteout or hidden by an opaque directory are gone, as in overlayfs and
 * the OCI image spec (a whiteout affects only lower layers, never entries of its own layer).
 */
public final class ImageTree {
    /** A visible entry and the index (0 = bottom) of the layer holding it. */
    public record Visible(FileEntry entry, int layer) {
    }

    private final String name;
    private final List<ScannedLayer> layers;
    private final TreeMap<String, Visible> paths = new TreeMap<>();

    private ImageTree(String name, List<ScannedLayer> layers) {
        this.name = name;
        this.layers = List.copyOf(layers);
    }

    /** Builds the visible tree of an image from its layers, bottom first. */
    public static ImageTree of(String name, List<ScannedLayer> layers) {
        ImageTree t = new ImageTree(name, layers);
        for (int i = 0; i < layers.size(); i++) {
            t.apply(layers.get(i), i);
        }
        return t;
    }

    private void apply(ScannedLayer layer, int index) {
        // Whiteouts first: they only remove lower-layer content, whatever their position in the tar.
        for (FileEntry e : layer.entries()) {
            if (e.type() == FileType.WHITEOUT) {
                paths.remove(e.path());
                removeChildren(e.path());
            } else if (e.type() == FileType.OPAQUE) {
                removeChildren(e.path());
            }
        }
        for (FileEntry e : layer.entries()) {
            switch (e.type()) {
                case WHITEOUT, OPAQUE -> { }
                case HARDLINK -> {
                    Visible target = paths.get(e.linkTarget());
                    if (target == null || !(target.entry().type() == FileType.REGULAR
                            || target.entry().type() == FileType.HARDLINK)) {
                        // A dangling hard link cannot be extracted by any engine; keep it out of the view.
                        continue;
                    }
                    FileEntry t = target.entry();
                    put(new FileEntry(e.path(), FileType.HARDLINK, t.mode(), t.uid(), t.gid(), t.size(), t.sha256(),
                            e.linkTarget(), 0, 0, t.mtime(), t.xattrs()), index);
                }
                default -> put(e, index);
            }
        }
    }

    private void put(FileEntry e, int index) {
        Visible old = paths.put(e.path(), new Visible(e, index));
        if (old != null && old.entry().type() == FileType.DIRECTORY && e.type() != FileType.DIRECTORY) {
            removeChildren(e.path()); // a non-directory hides everything below a lower directory
        }
    }

    private void removeChildren(String dir) {
        if (dir.isEmpty()) {
            paths.clear();
            return;
        }
        paths.subMap(dir + "/", true, dir + "0", false).clear();
    }

    /** The image name given at construction (e.g. {@code repo:tag}). */
    public String name() {
        return name;
    }

    /** The layers, bottom first. */
    public List<ScannedLayer> layers() {
        return layers;
    }

    /** Visible paths in sorted order. */
    public NavigableMap<String, Visible> paths() {
        return java.util.Collections.unmodifiableNavigableMap(paths);
    }

    /** The visible entry at {@code path}, or {@code null}. */
    public FileEntry get(String path) {
        Visible v = paths.get(path);
        return v == null ? null : v.entry();
    }

    /** All visible entries in path order. */
    public List<FileEntry> entries() {
        List<FileEntry> out = new ArrayList<>(paths.size());
        for (Visible v : paths.values()) {
            out.add(v.entry());
        }
        return out;
    }

    /** Visible regular-file content digests (hex), for "does this image have that content" checks. */
    public Set<String> contentDigests() {
        Set<String> out = new HashSet<>();
        collectContent(paths.values(), out);
        return out;
    }

    private static void collectContent(Collection<Visible> vs, Set<String> out) {
        for (Visible v : vs) {
            if (v.entry().hasContent()) {
                out.add(v.entry().sha256());
            }
        }
    }
}
