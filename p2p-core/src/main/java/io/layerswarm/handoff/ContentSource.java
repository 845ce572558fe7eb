package io.layerswarm.handoff;

import java.util.Optional;
import java.util.Set;

/**
 * Content a handoff target already holds outside the tree being received, e.g. the files of the
 * image layers it pre-synced. Located files are read, never modified, and verified while copied.
 */
public interface ContentSource {
    /** Digests (lowercase hex sha256) this source can provide. */
    Set<String> digests();

    /** A readable regular file with this content, if held. */
    Optional<java.nio.file.Path> locate(String sha256);

    /** A source holding nothing. */
    static ContentSource none() {
        return new ContentSource() {
            @Override
            public Set<String> digests() {
                return Set.of();
            }

            @Override
            public Optional<java.nio.file.Path> locate(String sha256) {
                return Optional.empty();
            }
        };
    }
}
