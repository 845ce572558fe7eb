package io.layerswarm.refactor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Drives the real skopeo to copy images between a loopback registry and OCI layouts. */
final class Skopeo {
    private Skopeo() {
    }

    static void require() throws Exception {
        try {
            Process p = new ProcessBuilder("skopeo", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            assertEquals(0, p.waitFor(), "skopeo --version failed");
        } catch (IOException e) {
            throw new AssertionError("skopeo is not installed (run scripts/install-system-packages.sh)", e);
        }
    }

    /** {@code skopeo copy} without TLS (the registry is on loopback). */
    static void copy(String from, String to) throws Exception {
        Path log = Files.createTempFile("skopeo-", ".log");
        Process p = new ProcessBuilder("skopeo", "copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false",
                from, to).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "skopeo copy timed out");
        String out = Files.readString(log);
        Files.delete(log);
        assertEquals(0, p.exitValue(), "skopeo copy " + from + " " + to + " failed:\n" + out);
    }
}
