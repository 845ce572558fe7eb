package io.layerswarm.handoff.containerd;

import io.layerswarm.handoff.CheckpointSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Process state through containerd's CRIU-backed {@code ctr tasks checkpoint}. Usable only where
 * {@code criu check} passes; on this project's test machines it fails (or CRIU is missing), this
 * source reports itself unsupported and handoffs use {@link CheckpointSource#none()}: the file system
 * moves, the process memory does not.
 */
public final class CriuCheckpointSource implements CheckpointSource {
    private final Ctr ctr;
    private final Path criu;

    /** @param socket containerd's socket @param criu the criu binary */
    public CriuCheckpointSource(Path socket, Path criu) {
        this.ctr = new Ctr(CtrRuntime.CTR, socket, Duration.ofMinutes(5));
        this.criu = criu;
    }

    @Override
    public String name() {
        return "criu";
    }

    @Override
    public Optional<String> unsupportedReason() {
        if (!Files.isExecutable(criu)) {
            return Optional.of(criu + " is not installed");
        }
        try {
            Ctr.Result r = Ctr.exec(List.of(criu.toString(), "check"), Duration.ofSeconds(30));
            return r.ok() ? Optional.empty() : Optional.of("criu check failed: " + r.output().strip());
        } catch (IOException e) {
            return Optional.of("criu check did not run: " + e.getMessage());
        }
    }

    @Override
    public boolean checkpoint(String container, Path dir) throws IOException {
        Optional<String> why = unsupportedReason();
        if (why.isPresent()) {
            throw new IOException("cannot checkpoint " + container + ": " + why.get());
        }
        ctr.run("tasks", "checkpoint", "--image-path", dir.toString(), container);
        return true;
    }
}
