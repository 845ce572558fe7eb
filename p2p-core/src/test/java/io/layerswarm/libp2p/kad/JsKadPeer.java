package io.layerswarm.libp2p.kad;

import java.io.BufferedReader;
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
 * The js-libp2p kad peer ({@code src/test/js/kad-peer.mjs}) as a child process driven over stdin,
 * its stdout lines collected for the test. Installs the pinned npm packages on first use.
 */
final class JsKadPeer implements AutoCloseable {

    static final Path JS_DIR = Path.of("src/test/js").toAbsolutePath();

    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> stderr = new ArrayList<>();
    final String peerId;
    final String listenAddr;

    private JsKadPeer(Process p) throws Exception {
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

    static JsKadPeer start() throws Exception {
        String node = which("node");
        if (!Files.isDirectory(JS_DIR.resolve("node_modules/@libp2p/kad-dht"))) {
            String npm = which("npm");
            Process install = new ProcessBuilder(npm, "ci", "--no-audit", "--no-fund").directory(JS_DIR.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!install.waitFor(300, TimeUnit.SECONDS) || install.exitValue() != 0) {
                throw new IllegalStateException("npm ci in " + JS_DIR + " failed; the js interop peer needs it");
            }
        }
        return new JsKadPeer(new ProcessBuilder(node, "kad-peer.mjs").directory(JS_DIR.toFile()).start());
    }

    private static String which(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
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
        }, "js-kad-peer-output");
        t.setDaemon(true);
        t.start();
    }

    /** Sends one command line. */
    void command(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    /** Waits for the next line starting with {@code prefix}, skipping others; fails with stderr on timeout. */
    String expect(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String l = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
            if (l == null) {
                throw new AssertionError("js kad peer did not print '" + prefix + "…' within " + timeout
                        + "; alive=" + process.isAlive() + " stderr=" + stderrText());
            }
            if (l.startsWith(prefix)) {
                return l;
            }
            if (l.startsWith("error ")) {
                throw new AssertionError("js kad peer failed: " + l + " stderr=" + stderrText());
            }
        }
    }

    /** All provider lines up to "find-done". */
    List<String> findProviders(String cid, Duration timeout) throws Exception {
        command("find " + cid + " " + timeout.toMillis());
        List<String> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.plusSeconds(30).toNanos();
        while (true) {
            String l = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l == null) {
                throw new AssertionError("js find did not finish; stderr=" + stderrText());
            }
            if (l.startsWith("provider ")) {
                out.add(l.substring(9));
            } else if (l.startsWith("find-done")) {
                return out;
            }
        }
    }

    String stderrText() {
        synchronized (stderr) {
            int from = Math.max(0, stderr.size() - 20);
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
