package io.layerswarm.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Prometheus's own checker for an exposition ({@code promtool check metrics}, Debian package {@code prometheus}). */
public final class Promtool {
    private Promtool() {
    }

    /**
     * Runs {@code promtool check metrics} on a text exposition.
     *
     * @return its complaints (lint warnings); empty when the text is clean
     * @throws IOException if promtool is missing, times out, or rejects the text (exit status not 0)
     */
    public static String checkMetrics(String exposition) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("promtool timed out");
        }
        if (p.exitValue() != 0) {
            throw new IOException("promtool check metrics failed (" + p.exitValue() + "): " + out);
        }
        return out;
    }
}
