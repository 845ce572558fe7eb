package io.layerswarm.handoff;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a handoff gets a container's process state (memory, open files) when the task stops. Moving
 * memory needs CRIU; on machines where {@code criu check} fails, {@link #none()} is the only source
 * and the target starts the process afresh on the moved file system: <b>memory is not moved</b>.
 */
public interface CheckpointSource {
    /** Name for logs and reports. */
    String name();

    /** Why this source cannot checkpoint here, or empty if it can. */
    Optional<String> unsupportedReason();

    /**
     * Writes the checkpoint of {@code container}'s running task into {@code dir}.
     *
     * @return whether a checkpoint was written (false: nothing to move)
     */
    boolean checkpoint(String container, Path dir) throws IOException;

    /** No process state: the file system moves, the process restarts on the target. */
    static CheckpointSource none() {
        return new CheckpointSource() {
            @Override
            public String name() {
                return "none";
            }

            @Override
            public Optional<String> unsupportedReason() {
                return Optional.empty();
            }

            @Override
            public boolean checkpoint(String container, Path dir) {
                return false;
            }
        };
    }
}
