package io.layerswarm.refactor.delta;

import io.layerswarm.refactor.index.FileEntry;
import io.layerswarm.refactor.index.FileType;
import io.layerswarm.refactor.index.ImageTree;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Computes the entries of a delta layer: applied on top of image A's root filesystem it yields
 * exactly image B's. It holds every path of B that A lacks or has differently (content, type, mode,
 * owner, link target, xattrs) and a whiteout for every topmost path of A that B lacks. Hard links
 * that change are written as regular files, because a link to a lower layer is not portable across
 * snapshotters.
 */
public final class DeltaPlanner {
    private DeltaPlanner() {
    }

    /** The delta entries from {@code from} to {@code to}. */
    public static List<FileEntry> plan(ImageTree from, ImageTree to) {
        List<FileEntry> out = new ArrayList<>();
        for (ImageTree.Visible v : to.paths().values()) {
            FileEntry b = v.entry();
            FileEntry a = from.get(b.path());
            if (a != null && a.sameFileAs(b) && (b.type() != FileType.HARDLINK || sameLinkTarget(from, to, b))) {
                continue;
            }
            out.add(b.type() == FileType.HARDLINK ? b.asRegular() : b);
        }
        String removed = null;
        for (Map.Entry<String, ImageTree.Visible> e : from.paths().entrySet()) {
            String p = e.getKey();
            if (removed != null && p.startsWith(removed + "/")) {
                continue; // under a path already removed or replaced
            }
            FileEntry b = to.get(p);
            if (b == null) {
                out.add(new FileEntry(p, FileType.WHITEOUT, 0, 0, 0, 0, null, null, 0, 0, 0, Map.of()));
                removed = p;
            } else if (e.getValue().entry().type() == FileType.DIRECTORY && b.type() != FileType.DIRECTORY) {
                removed = p; // B's non-directory hides the whole lower directory
            }
        }
        return out;
    }

    private static boolean sameLinkTarget(ImageTree from, ImageTree to, FileEntry link) {
        FileEntry ta = from.get(link.linkTarget());
        FileEntry tb = to.get(link.linkTarget());
        return ta != null && tb != null && ta.sameFileAs(tb);
    }
}
