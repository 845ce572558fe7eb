package io.layerswarm.libp2p.interop;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code src/test/js/peer.mjs} (js-libp2p 3) as a child process. */
final class JsPeer implements AutoCloseable {
    static final Path DIR = Path.of("src/test/js").toAbsolutePath();
    static final String ECHO = "/layerswarm/test/echo/1.0.0";
    static final String SHA256 = "/layerswarm/test/sha256/1.0.0";

    private final Process process;
    final String multiaddr;

    private JsPeer(Process process, String multiaddr) {
        this.process = process;
        this.multiaddr = multiaddr;
    }

    /** Installs the pinned js-libp2p packages (npm ci) when node_modules is missing. */
    static synchronized void ensureInstalled() throws Exception {
        if (Files.isDirectory(DIR.resolve("node_modules/libp2p")) && Files.isDirectory(DIR.resolve("node_modules/@libp2p/tls"))
                && Files.isDirectory(DIR.resolve("node_modules/@chainsafe/libp2p-quic"))) {
            return;
        }
        Process npm;
        try {
            npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund").directory(DIR.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            fail("npm is required for js-libp2p interop (scripts/install-system-packages.sh): " + e.getMessage());
            return;
        }
        if (!npm.waitFor(300, TimeUnit.SECONDS) || npm.exitValue() != 0) {
            npm.destroyForcibly();
            fail("npm install failed in " + DIR);
        }
    }

    private static List<String> command(String script, String... args) {
        List<String> cmd = new ArrayList<>(List.of("node", DIR.resolve(script).toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts a listening js peer and waits for its address line. */
    static JsPeer listen(String... extra) throws Exception {
        return listenWith("peer.mjs", extra);
    }

    /** Starts a listening peer from {@code script} (printing {@code LISTEN <multiaddr>} first). */
    static JsPeer listenWith(String script, String... extra) throws Exception {
        ensureInstalled();
        List<String> args = new ArrayList<>(List.of("listen"));
        args.addAll(List.of(extra));
        Process p = new ProcessBuilder(command(script, args.toArray(String[]::new))).directory(DIR.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = r.readLine();
        if (line == null || !line.startsWith("LISTEN ")) {
            p.destroyForcibly();
            fail("js peer did not start listening, first line: " + line);
        }
        return new JsPeer(p, line.substring("LISTEN ".length()).trim());
    }

    /** Runs a js dialer scenario to completion; returns its stdout lines. */
    static List<String> dial(String target, String... extra) throws Exception {
        return dialWith("peer.mjs", target, extra);
    }

    /** Runs {@code script}'s dialer to completion; returns its stdout lines. */
    static List<String> dialWith(String script, String target, String... extra) throws Exception {
        ensureInstalled();
        List<String> args = new ArrayList<>(List.of("dial", target));
        args.addAll(List.of(extra));
        Process p = new ProcessBuilder(command(script, args.toArray(String[]::new))).directory(DIR.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
            }
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("js dialer did not finish: " + lines);
        }
        return lines;
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
