package io.layerswarm.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Runs real tools (skopeo, umoci, sh) from tests. */
public final class Processes {
    private Processes() {
    }

    /**
     * Runs {@code cmd} to completion within {@code timeoutSeconds}.
     *
     * @return its stdout and stderr, merged
     * @throws IOException with that output if it fails or times out
     */
    public static String run(long timeoutSeconds, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " timed out:\n" + out);
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "):\n" + out);
        }
        return out;
    }
}
