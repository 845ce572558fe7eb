package io.layerswarm.handoff.containerd;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/** Runs {@code ctr -a SOCKET ...} against one containerd and returns what it printed. */
final class Ctr {
    private final Path ctr;
    private final Path socket;
    private final Duration timeout;

    Ctr(Path ctr, Path socket, Duration timeout) {
        this.ctr = Objects.requireNonNull(ctr, "ctr");
        this.socket = Objects.requireNonNull(socket, "socket");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    /** Output of a command that must succeed. */
    String run(String... args) throws IOException {
        Result r = attempt(args);
        if (!r.ok()) {
            throw new IOException("ctr " + String.join(" ", args) + " failed: " + r.output().trim());
        }
        return r.output();
    }

    /** A command that may fail. */
    Result attempt(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ctr.toString(), "-a", socket.toString()));
        cmd.addAll(List.of(args));
        return exec(cmd, timeout);
    }

    record Result(boolean ok, String output) {
    }

    /** Runs a command to completion within {@code timeout}, stdout and stderr merged through a temp file. */
    static Result exec(List<String> cmd, Duration timeout) throws IOException {
        Path out = Files.createTempFile("layerswarm-ctr-", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " timed out after " + timeout);
            }
            return new Result(p.exitValue() == 0, Files.readString(out, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted running " + cmd.get(0));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
