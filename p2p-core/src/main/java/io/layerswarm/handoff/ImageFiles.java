package io.layerswarm.handoff;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The regular files of a container's image directories on the target (e.g. overlay lower layers),
 * indexed by content: a writable-layer file with the same content is sent as a reference, not sent.
 */
public final class ImageFiles implements ContentSource {
    private final Map<String, Path> byDigest;

    private ImageFiles(Map<String, Path> byDigest) {
        this.byDigest = Map.copyOf(byDigest);
    }

    /** Scans and hashes every regular file below {@code dirs}. */
    public static ImageFiles index(List<Path> dirs) throws IOException {
        Map<String, Path> out = new HashMap<>();
        for (Path d : dirs) {
            for (TreeEntry e : TreeScanner.scan(d).entries().values()) {
                if (e.type() == EntryType.FILE) {
                    out.putIfAbsent(e.sha256(), d.resolve(e.path()));
                }
            }
        }
        return new ImageFiles(out);
    }

    @Override
    public Set<String> digests() {
        return byDigest.keySet();
    }

    @Override
    public Optional<Path> locate(String sha256) {
        return Optional.ofNullable(byDigest.get(sha256));
    }
}
