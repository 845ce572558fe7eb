package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A {@code java -jar layerswarm.jar node ...} process: its two address lines parsed, stdout kept
 * line by line, stderr in a file.
 */
final class NodeProcess implements AutoCloseable {
    static final Path JAR = Path.of("target/layerswarm.jar").toAbsolutePath();

    final String name;
    final Process process;
    final String listen;
    final String mirror;
    final Path stderr;
    private final List<String> out = new CopyOnWriteArrayList<>();

    private NodeProcess(String name, Process process, String listen, String mirror, Path stderr) {
        this.name = name;
        this.process = process;
        this.listen = listen;
        this.mirror = mirror;
        this.stderr = stderr;
    }

    static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts a node in {@code dir} (cache and key under it) with the given extra flags. */
    static NodeProcess start(String name, Path dir, String upstream, List<String> extra) throws IOException {
        return start(name, dir, upstream, extra, "INFO");
    }

    /** As above, with the stderr log level (DEBUG shows each piece served). */
    static NodeProcess start(String name, Path dir, String upstream, List<String> extra, String logLevel)
            throws IOException {
        assertTrue(Files.isRegularFile(JAR), "build the jar first (mvn package): " + JAR);
        Files.createDirectories(dir);
        List<String> cmd = command("node", "--listen", "/ip4/127.0.0.1/tcp/0", "--mirror-listen", "127.0.0.1:0",
                "--cache-dir", dir.resolve("cache").toString(), "--key", dir.resolve("node.key").toString(),
                "--upstream", upstream);
        cmd.addAll(extra);
        Path err = dir.resolve("stderr.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        pb.environment().put("LAYERSWARM_LOG_LEVEL", logLevel);
        Process p = pb.start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String l1 = r.readLine();
        String l2 = r.readLine();
        if (l1 == null || !l1.startsWith("listening /") || l2 == null || !l2.startsWith("mirror http://")) {
            p.destroyForcibly();
            fail(name + ": unexpected first lines '" + l1 + "', '" + l2 + "'; stderr: " + Files.readString(err));
        }
        NodeProcess n = new NodeProcess(name, p, l1.substring("listening ".length()),
                l2.substring("mirror http://".length()), err);
        Thread t = new Thread(() -> {
            try {
                String l;
                while ((l = r.readLine()) != null) {
                    n.out.add(l);
                }
            } catch (IOException e) {
                // process gone
            }
        }, name + "-stdout");
        t.setDaemon(true);
        t.start();
        return n;
    }

    /** Event lines printed after the two address lines. */
    List<String> events() {
        return List.copyOf(out);
    }

    /** Waits until a stdout line matches. */
    String awaitEvent(Predicate<String> p, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            for (String l : out) {
                if (p.test(l)) {
                    return l;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + ": no matching event in " + seconds + " s; events: " + out);
    }

    String stderrText() throws IOException {
        return Files.readString(stderr);
    }

    /** SIGTERM, then a bounded wait; returns the exit status. */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
            return -1;
        }
        return process.exitValue();
    }

    /** Stops the node and keeps its logs under target/it-logs for a look after a failure. */
    @Override
    public void close() throws InterruptedException, IOException {
        if (process.isAlive()) {
            stop();
        }
        Path logs = Files.createDirectories(Path.of("target/it-logs"));
        Files.copy(stderr, logs.resolve(name + ".stderr.log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.write(logs.resolve(name + ".stdout.log"), out);
    }

    /** Runs a tool to completion, failing with its output if it fails. */
    static String run(long timeoutSeconds, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " timed out:\n" + text);
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "):\n" + text);
        }
        return text;
    }
}
