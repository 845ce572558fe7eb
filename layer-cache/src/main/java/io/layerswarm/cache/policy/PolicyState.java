package io.layerswarm.cache.policy;

import java.util.List;
import java.util.Map;

/**
 * A policy's history in a form that survives a restart: named, ordered segments (for ARC: T1, T2,
 * B1, B2, each LRU first) plus a few scalars (for ARC: the adaptation target {@code p}).
 *
 * @param policy the policy name that wrote it; a state is only restored into the same policy
 * @param capacity the capacity in bytes when it was written
 * @param scalars named numbers, e.g. {@code p}
 * @param segments named ordered entry lists
 */
public record PolicyState(String policy, long capacity, Map<String, Double> scalars,
                          Map<String, List<Entry>> segments) {

    /** Copies the collections. */
    public PolicyState {
        scalars = Map.copyOf(scalars == null ? Map.of() : scalars);
        segments = Map.copyOf(segments == null ? Map.of() : segments);
    }

    /** The entries of a segment, empty when absent. */
    public List<Entry> segment(String name) {
        List<Entry> s = segments.get(name);
        return s == null ? List.of() : s;
    }

    /**
     * One remembered key.
     *
     * @param key a layer key, or an image name in image-granularity policies
     * @param size bytes of the layer (0 for an image entry)
     * @param layers the layer keys of an image entry, empty for a layer entry
     */
    public record Entry(String key, long size, List<String> layers) {
        /** Copies the layer list. */
        public Entry {
            layers = layers == null ? List.of() : List.copyOf(layers);
        }

        /** A layer entry. */
        public static Entry layer(String key, long size) {
            return new Entry(key, size, List.of());
        }
    }
}
