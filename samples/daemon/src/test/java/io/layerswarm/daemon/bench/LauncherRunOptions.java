package io.layerswarm.daemon.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import picocli.CommandLine.Option;

/**
 * Where a benchmark that starts {@code layerswarm} processes through the launcher script finds the
 * launcher, does its work and keeps the process logs (a picocli mixin of the containerd benchmarks).
 */
final class LauncherRunOptions {
    @Option(names = "--launcher", required = true, description = "The layerswarm launcher script.")
    Path launcher;

    @Option(names = "--work", required = true, description = "Work directory (emptied and deleted at the end).")
    Path work;

    @Option(names = "--logs", description = "Keep the node (and extender) logs here: <run>-<node>.stderr.log / .stdout.log.")
    Path logs;

    /** Copies {@code n}'s stderr log and stdout lines to {@code --logs}, named after the run directory; no-op without it. */
    void keepLogs(Path runDir, LauncherNode n) throws IOException {
        if (logs == null) {
            return;
        }
        Files.createDirectories(logs);
        String prefix = runDir.getFileName() + "-" + n.name;
        Files.copy(n.stderr, logs.resolve(prefix + ".stderr.log"), StandardCopyOption.REPLACE_EXISTING);
        Files.write(logs.resolve(prefix + ".stdout.log"), n.out);
    }
}
