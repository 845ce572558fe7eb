package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.layerswarm.daemon.DaemonJar;
import io.layerswarm.testing.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A {@code java -jar layerswarm.jar node ...} process: its address lines parsed (one {@code listening} line per
 * listen address, then the mirror), stdout kept line by line, stderr in a file.
 */
final class NodeProcess implements AutoCloseable {
    static final Path JAR = DaemonJar.JAR;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    final String name;
    final Process process;
    /** The first listen address (the loopback TCP one), with {@code /p2p/ID}. */
    final String listen;
    /** Every listen address, in the order printed. */
    final List<String> listens;
    final String mirror;
    final Path stderr;
    private final List<String> out = new CopyOnWriteArrayList<>();

    private NodeProcess(String name, Process process, List<String> listens, String mirror, Path stderr) {
        this.name = name;
        this.process = process;
        this.listens = List.copyOf(listens);
        this.listen = listens.get(0);
        this.mirror = mirror;
        this.stderr = stderr;
    }

    /**
     * Flags for tests that assert the registry sends each byte about once: claims and silent fetchers
     * are waited for far longer than the defaults, so a CPU-starved CI machine (where a fresh JVM may
     * take seconds to answer) tests the protocol, not the machine's speed. Answered claims never wait.
     */
    static final List<String> PATIENT = List.of("--claim-wait-ms", "30000", "--origin-stall-ms", "60000");

    static List<String> command(String... args) {
        return DaemonJar.command(args);
    }

    /** Starts a node in {@code dir} (cache and key under it) with the given extra flags. */
    static NodeProcess start(String name, Path dir, String upstream, List<String> extra) throws IOException {
        return start(name, dir, upstream, extra, "INFO");
    }

    /** As above, with the stderr log level (DEBUG shows each piece served). */
    static NodeProcess start(String name, Path dir, String upstream, List<String> extra, String logLevel)
            throws IOException {
        List<String> args = new ArrayList<>(List.of("--cache-dir", dir.resolve("cache").toString(), "--key",
                dir.resolve("node.key").toString(), "--upstream", upstream));
        args.addAll(extra);
        return startWith(name, dir, args, logLevel);
    }

    /**
     * Starts {@code node --listen (loopback, any port) --mirror-listen (loopback, any port)} plus
     * {@code args}; stderr goes to {@code logDir/stderr.log}.
     */
    static NodeProcess startWith(String name, Path logDir, List<String> args, String logLevel) throws IOException {
        assertTrue(Files.isRegularFile(JAR), "build the jar first (mvn package): " + JAR);
        Files.createDirectories(logDir);
        List<String> cmd = command("node", "--listen", "/ip4/127.0.0.1/tcp/0", "--mirror-listen", "127.0.0.1:0");
        cmd.addAll(args);
        Path err = logDir.resolve("stderr.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        pb.environment().put("LAYERSWARM_LOG_LEVEL", logLevel);
        Process p = pb.start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        List<String> listens = new ArrayList<>();
        String first = r.readLine();
        while (first != null && first.startsWith("listening /")) {
            listens.add(first.substring("listening ".length()));
            first = r.readLine();
        }
        if (listens.isEmpty() || first == null || !first.startsWith("mirror http://")) {
            p.destroyForcibly();
            fail(name + ": unexpected first lines " + listens + ", '" + first + "'; stderr: " + Files.readString(err));
        }
        NodeProcess n = new NodeProcess(name, p, listens, first.substring("mirror http://".length()), err);
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

    /** One node start, for {@link #startAll}. */
    @FunctionalInterface
    interface Start {
        NodeProcess start() throws IOException;
    }

    /**
     * Starts the nodes side by side (JVM start-up is most of a start) and returns them in the given order,
     * each added to {@code open} as soon as it is up; if one fails, the others are still waited for (and
     * so closed with {@code open}) before the failure is thrown.
     */
    static List<NodeProcess> startAll(io.layerswarm.testing.Closer open, List<Start> starts) throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(starts.size());
        try {
            List<java.util.concurrent.Future<NodeProcess>> started = new ArrayList<>();
            for (Start s : starts) {
                started.add(pool.submit(() -> open.add(s.start())));
            }
            List<NodeProcess> nodes = new ArrayList<>();
            Exception failure = null;
            for (java.util.concurrent.Future<NodeProcess> f : started) {
                try {
                    nodes.add(f.get(5, TimeUnit.MINUTES));
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    failure = failure == null ? e : failure;
                }
            }
            if (failure != null) {
                throw failure;
            }
            return nodes;
        } finally {
            pool.shutdownNow();
        }
    }

    /** SIGTERMs every node first, then waits for each ({@link #stop}); their exit statuses in order. */
    static List<Integer> stopAll(List<NodeProcess> nodes) throws InterruptedException {
        nodes.forEach(n -> n.process.destroy());
        List<Integer> statuses = new ArrayList<>();
        for (NodeProcess n : nodes) {
            statuses.add(n.stop());
        }
        return statuses;
    }

    /** GETs {@code path} from the node's registry mirror (manifests in OCI or Docker v2); asserts 200. */
    byte[] mirrorGet(String path) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + mirror + path))
                .header("Accept", "application/vnd.oci.image.manifest.v1+json,"
                        + "application/vnd.docker.distribution.manifest.v2+json").GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode(), name + " " + path + ": " + new String(r.body(), StandardCharsets.UTF_8));
        return r.body();
    }

    /** {@code sha256:HEX} of {@code b}. */
    static String sha256(byte[] b) throws java.security.NoSuchAlgorithmException {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** Event lines printed after the address lines. */
    List<String> events() {
        return List.copyOf(out);
    }

    /** Waits until a stdout line matches. */
    String awaitEvent(Predicate<String> p, long seconds) throws InterruptedException {
        return Await.until(Duration.ofSeconds(seconds), name + " prints a matching event",
                () -> out.stream().filter(p).findFirst(), Optional::isPresent).orElseThrow();
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
        return io.layerswarm.testing.Processes.run(timeoutSeconds, cmd);
    }
}
