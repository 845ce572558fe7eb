package io.layerswarm.handoff;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Makes overlay whiteouts: character devices 0/0. The JDK can neither create device nodes nor set
 * their mode or times (it opens the file for that, and a 0/0 device cannot be opened), so one short
 * shell runs {@code mknod}, {@code chown -h} and {@code touch -h} (needs CAP_MKNOD, as the node has
 * when it drives containerd). Whiteouts are few: image files the container deleted.
 */
final class Whiteouts {
    private static final long TIMEOUT_SECONDS = 30;
    private static final String SCRIPT = "mknod -m \"$1\" -- \"$2\" c 0 0 && chown -h \"$3\" -- \"$2\""
            + " && touch -h -m -d \"$4\" -- \"$2\"";

    private Whiteouts() {
    }

    /** Creates the whiteout {@code p} (which must not exist) with these permission bits, owner and mtime. */
    static void make(Path p, int mode, int uid, int gid, long mtimeNanos) throws IOException {
        String time = "@" + Math.floorDiv(mtimeNanos, 1_000_000_000L) + "."
                + String.format("%09d", Math.floorMod(mtimeNanos, 1_000_000_000L));
        Process proc = new ProcessBuilder("sh", "-c", SCRIPT, "sh", Integer.toOctalString(mode & 07777), p.toString(),
                uid + ":" + gid, time).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
                new File("/dev/null"))).start();
        try {
            if (!proc.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                throw new IOException("making whiteout " + p + " timed out");
            }
            String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (proc.exitValue() != 0) {
                throw new IOException("making whiteout " + p + " failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted making whiteout " + p);
        }
    }
}
