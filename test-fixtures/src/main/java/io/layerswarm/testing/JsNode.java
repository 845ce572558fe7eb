package io.layerswarm.testing;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A Node.js interop script (a js-libp2p peer) run as a child process and driven line by line over
 * stdin: it prints {@code peer <id>} and {@code listening <multiaddr>} first, then answers commands;
 * a line starting with {@code error } fails the test. Installs the directory's pinned packages with
 * {@code npm install} (the lock file's versions) when a needed one is missing: not {@code npm ci}, which
 * refuses a lock without entries for other platforms' optional native packages (e.g. the QUIC peer's),
 * and the registry these machines use does not serve those.
 */
public final class JsNode implements AutoCloseable {

    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> stderr = new ArrayList<>();
    /** The js node's peer id. */
    public final String peerId;
    /** Its first listen address (with /p2p). */
    public final String listenAddr;

    private JsNode(Process p) throws Exception {
        this.process = p;
        this.stdin = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
        pump(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)), lines::add);
        pump(new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8)), l -> {
            synchronized (stderr) {
                stderr.add(l);
            }
        });
        this.peerId = expect("peer ", Duration.ofSeconds(60)).substring(5);
        this.listenAddr = expect("listening ", Duration.ofSeconds(10)).substring(10);
    }

    /**
     * Starts {@code script} in {@code jsDir}, after {@code npm install} there if
     * {@code node_modules/<requiredPackage>} is missing.
     */
    public static JsNode start(Path jsDir, String script, String requiredPackage) throws Exception {
        String node = which("node");
        if (!Files.isDirectory(jsDir.resolve("node_modules").resolve(requiredPackage))) {
            Process install = new ProcessBuilder(which("npm"), "install", "--no-audit", "--no-fund").directory(jsDir.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!install.waitFor(300, TimeUnit.SECONDS) || install.exitValue() != 0) {
                throw new IllegalStateException("npm install in " + jsDir + " failed; the js interop peer needs it");
            }
        }
        return new JsNode(new ProcessBuilder(node, script).directory(jsDir.toFile()).start());
    }

    private static String which(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new IllegalStateException(tool + " not found on PATH: install Node.js (scripts/install-system-packages.sh)");
    }

    private static void pump(BufferedReader r, java.util.function.Consumer<String> sink) {
        Thread t = new Thread(() -> {
            try {
                for (String l; (l = r.readLine()) != null; ) {
                    sink.accept(l);
                }
            } catch (IOException ignored) {
                // process ended
            }
        }, "js-node-output");
        t.setDaemon(true);
        t.start();
    }

    /** Sends one command line. */
    public void command(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    /** Waits for the next line starting with {@code prefix}, skipping others; fails on an error line or timeout. */
    public String expect(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String l = next(prefix, deadline, timeout);
            if (l.startsWith(prefix)) {
                return l;
            }
        }
    }

    /** The next line before {@code deadline}; an error line or the deadline fails the test. */
    private String next(String waitingFor, long deadline, Duration timeout) throws InterruptedException {
        long left = deadline - System.nanoTime();
        String l = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
        if (l == null) {
            throw new AssertionError("js node did not print '" + waitingFor + "…' within " + timeout
                    + "; alive=" + process.isAlive() + " stderr=" + stderrText());
        }
        if (l.startsWith("error ")) {
            throw new AssertionError("js node failed: " + l + " stderr=" + stderrText());
        }
        return l;
    }

    /**
     * Collects the lines starting with {@code itemPrefix} (prefix removed) until a line starting with
     * {@code endPrefix}; fails on an error line or timeout.
     */
    public List<String> collect(String itemPrefix, String endPrefix, Duration timeout) throws InterruptedException {
        List<String> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String l = next(endPrefix, deadline, timeout);
            if (l.startsWith(itemPrefix)) {
                out.add(l.substring(itemPrefix.length()));
            } else if (l.startsWith(endPrefix)) {
                return out;
            }
        }
    }

    private String stderrText() {
        synchronized (stderr) {
            int from = Math.max(0, stderr.size() - 30);
            return String.join("\n", stderr.subList(from, stderr.size()));
        }
    }

    @Override
    public void close() throws Exception {
        try {
            stdin.close();
        } catch (IOException ignored) {
            // already gone
        }
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
