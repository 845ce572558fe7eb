package io.layerswarm.handoff;

import java.util.List;
import java.util.Objects;

/**
 * What the target needs to create the same container: its id, its image by digest and its process.
 *
 * @param id container id (the same on both nodes)
 * @param image the image, by digest
 * @param args the process's arguments
 * @param cwd the process's working directory ({@code ""}: the image's)
 */
public record ContainerConfig(String id, ImageRef image, List<String> args, String cwd) {
    /** Validates and copies. */
    public ContainerConfig {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(cwd, "cwd");
        args = List.copyOf(args);
        if (!id.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")) {
            throw new IllegalArgumentException("not a container id: '" + id + "'");
        }
    }
}
