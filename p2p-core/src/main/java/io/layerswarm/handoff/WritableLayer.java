package io.layerswarm.handoff;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Where a container's file system lives on this host.
 *
 * @param dir the writable layer: an overlay upper directory (only what the container changed), or a
 *            whole root file system for snapshotters that copy (containerd's {@code native})
 * @param imageDirs directories holding the image's files (overlay lower directories; for a copying
 *                  snapshotter the root file system itself, before anything is installed into it)
 */
public record WritableLayer(Path dir, List<Path> imageDirs) {
    /** Validates and copies. */
    public WritableLayer {
        Objects.requireNonNull(dir, "dir");
        imageDirs = List.copyOf(imageDirs);
    }
}
