package io.layerswarm.daemon.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One {@code layerswarm node} process started through the launcher script (so its JVM options are the
 * launcher's), in a directory holding its cache ({@code dir/cache}), key ({@code dir/node.key}) and
 * stderr log ({@code dir/stderr.log}, appended to, so a node restarted on the same directory keeps one
 * log); stdout is drained into a list. Used by the bench and soak drivers.
 */
final class LauncherNode implements AutoCloseable {
    final String name;
    final Process process;
    /** The libp2p listen address, with {@code /p2p/ID}. */
    final String listen;
    /** {@code 127.0.0.1:PORT} of the registry mirror. */
    final String mirror;
    final Path stderr;
    final List<String> out;

    private LauncherNode(String name, Process process, String listen, String mirror, Path stderr, List<String> out) {
        this.out = out;
        this.name = name;
        this.process = process;
        this.listen = listen;
        this.mirror = mirror;
        this.stderr = stderr;
    }

    /**
     * Starts a node on loopback (any ports) and waits (60 s at most) for its address lines.
     *
     * @param env added to the node's environment; a value for a variable already set is appended to it
     *            after a space (JVM option variables)
     */
    static LauncherNode start(Path launcher, String name, Path dir, String upstream, List<String> extra,
                              Map<String, String> env, ExecutorService pool) throws IOException {
        return start(List.of(), "127.0.0.1", launcher, name, dir, upstream, extra, env, pool);
    }

    /**
     * Like {@link #start(Path, String, Path, String, List, Map, ExecutorService)}, run through {@code exec}
     * (e.g. {@code nsenter --net=... --}: the node in a network namespace), its libp2p listener on
     * {@code host} (any port); the mirror stays on the namespace's loopback.
     */
    static LauncherNode start(List<String> exec, String host, Path launcher, String name, Path dir, String upstream,
                              List<String> extra, Map<String, String> env, ExecutorService pool) throws IOException {
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>(exec);
        cmd.addAll(List.of(launcher.toString(), "node", "--listen", "/ip4/" + host + "/tcp/0",
                "--mirror-listen", "127.0.0.1:0", "--cache-dir", dir.resolve("cache").toString(), "--key",
                dir.resolve("node.key").toString(), "--upstream", upstream));
        cmd.addAll(extra);
        Path err = dir.resolve("stderr.log");
        Started s = startProcess(name, cmd, err, env, pool, "listening /", "mirror http://");
        return new LauncherNode(name, s.process(), s.lines().get(0).substring("listening ".length()),
                s.lines().get(1).substring("mirror http://".length()), err, s.out());
    }

    /**
     * A launcher process started with {@link #startProcess} that is not a node (the scheduler extender):
     * {@code address} is its first address line's value, {@code url} its second.
     */
    static LauncherNode wrap(String name, Started s, String address, String url, Path stderr) {
        return new LauncherNode(name, s.process(), address, url, stderr, s.out());
    }

    /** A started launcher process: its first stdout lines and the list the rest is drained into. */
    record Started(Process process, List<String> lines, List<String> out) {
    }

    /**
     * Starts {@code cmd} (stderr appended to {@code err}) and waits (60 s at most) for its first stdout
     * lines, which must start with {@code prefixes} in order; later lines are drained into
     * {@link Started#out()}.
     *
     * @param env added to the environment; a value for a variable already set is appended after a space
     */
    static Started startProcess(String name, List<String> cmd, Path err, Map<String, String> env, ExecutorService pool,
                                String... prefixes) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(err.toFile()));
        env.forEach((k, v) -> pb.environment().merge(k, v, (a, b) -> a + " " + b));
        Process p = pb.start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<List<String>> first = CompletableFuture.supplyAsync(() -> {
            List<String> lines = new ArrayList<>();
            try {
                for (int i = 0; i < prefixes.length; i++) {
                    lines.add(r.readLine());
                }
            } catch (IOException e) {
                lines.add(null);
            }
            return lines;
        }, pool);
        List<String> lines;
        try {
            lines = first.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            lines = List.of();
        }
        boolean ok = lines.size() == prefixes.length;
        for (int i = 0; ok && i < prefixes.length; i++) {
            ok = lines.get(i) != null && lines.get(i).startsWith(prefixes[i]);
        }
        if (!ok) {
            p.destroyForcibly();
            throw new IOException(name + ": unexpected first lines " + lines + "; stderr: " + Files.readString(err));
        }
        List<String> out = new CopyOnWriteArrayList<>();
        pool.execute(() -> {
            try {
                String l;
                while ((l = r.readLine()) != null) {
                    out.add(l);
                }
            } catch (IOException e) {
                // process gone
            }
        });
        return new Started(p, List.copyOf(lines), out);
    }

    /** Trouble a too-tight memory limit would show: exits, OutOfMemoryError, logged errors. */
    String health() {
        List<String> problems = new ArrayList<>();
        if (!process.isAlive()) {
            problems.add("exited with status " + process.exitValue());
        }
        try {
            String log = Files.readString(stderr);
            if (log.contains("OutOfMemoryError")) {
                problems.add("logged an OutOfMemoryError");
            }
            long errors = log.lines().filter(l -> l.contains(" ERROR ")).count();
            if (errors > 0) {
                problems.add("logged " + errors + " ERROR lines");
            }
        } catch (IOException e) {
            problems.add("stderr unreadable: " + e.getMessage());
        }
        return String.join(", ", problems);
    }

    /** The JVM's pid: the launcher execs java, so it is the process itself. */
    long pid() {
        return process.pid();
    }

    /** Peers connected now, from the {@code peer_connected} / {@code peer_disconnected} events. */
    int peers() {
        Set<String> peers = new HashSet<>();
        for (String l : out) {
            int i = l.indexOf("peer=");
            if (i < 0) {
                continue;
            }
            String peer = l.substring(i + 5).split("\\s")[0];
            if (l.contains("event=peer_connected")) {
                peers.add(peer);
            } else if (l.contains("event=peer_disconnected")) {
                peers.remove(peer);
            }
        }
        return peers.size();
    }

    /** Waits until {@link #peers()} reaches {@code n}; false on timeout or if the process exits. */
    boolean awaitPeers(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (peers() < n) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }

    /**
     * Waits until the process's stderr log holds {@code n} lines containing {@code marker}; false on timeout
     * or if the process exits.
     */
    boolean awaitLogLines(String marker, int n, Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long seen;
            try (var lines = Files.lines(stderr)) {
                seen = lines.filter(l -> l.contains(marker)).count();
            }
            if (seen >= n) {
                return true;
            }
            if (System.nanoTime() > deadline || !process.isAlive()) {
                return false;
            }
            Thread.sleep(100);
        }
    }

    /** {@code kill -9}: the JVM gets no chance to clean up (no shutdown hook, no journal write). */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, then SIGKILL after 15 s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
