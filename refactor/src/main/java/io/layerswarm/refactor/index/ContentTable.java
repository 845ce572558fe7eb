package io.layerswarm.refactor.index;

import io.layerswarm.oci.Digest;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The mapping from file content (sha256) to every image, layer and path where it is visible.
 * Built in one pass over the visible entries of all images: O(n) in visible files.
 */
public final class ContentTable {
    /** One place a content is visible. */
    public record Holder(int image, Digest layer, String path) {
    }

    /** The holders of one content. */
    public record Content(String sha256, long size, List<Holder> holders) {
    }

    private final Map<String, Content> byContent = new HashMap<>();

    /** Builds the table for the given images (image indices follow the list order). */
    public static ContentTable of(List<ImageTree> images) {
        ContentTable t = new ContentTable();
        for (int i = 0; i < images.size(); i++) {
            ImageTree img = images.get(i);
            for (ImageTree.Visible v : img.paths().values()) {
                FileEntry e = v.entry();
                if (!e.hasContent()) {
                    continue;
                }
                Digest layer = img.layers().get(v.layer()).digest();
                Content c = t.byContent.computeIfAbsent(e.sha256(), k -> new Content(k, e.size(), new ArrayList<>()));
                c.holders().add(new Holder(i, layer, e.path()));
            }
        }
        return t;
    }

    /** Where {@code sha256} is visible, or an empty list. */
    public List<Holder> holders(String sha256) {
        Content c = byContent.get(sha256);
        return c == null ? List.of() : Collections.unmodifiableList(c.holders());
    }

    /** All contents. */
    public Iterable<Content> contents() {
        return Collections.unmodifiableCollection(byContent.values());
    }

    /** Number of distinct contents. */
    public int size() {
        return byContent.size();
    }
}
