package io.layerswarm.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real containerd (the Debian package) for tests and benchmarks, without systemd: {@code containerd
 * --config F} with its own root, state, gRPC socket and {@code hosts.toml} directory under one
 * directory, driven with {@code ctr}. Containers run with runc.
 *
 * <pre>{@code
 * Containerd.requireAvailable();                       // skips (fails under CI=true) without root/containerd
 * try (Containerd c = Containerd.start(dir)) {
 *     c.mirror("127.0.0.1:5000", URI.create("http://127.0.0.1:5000"), List.of(URI.create("http://127.0.0.1:6000")));
 *     Containerd.Pull p = c.pull("127.0.0.1:5000/app:1", Duration.ofMinutes(2));
 *     String out = c.run("127.0.0.1:5000/app:1", Duration.ofMinutes(1), "/bin/sh", "-c", "echo hi");
 * }
 * }</pre>
 *
 * <p>{@link #close()} removes containers left behind, stops containerd (SIGTERM, then SIGKILL), ends any
 * shim that still serves this instance's socket and unmounts whatever is still mounted under the
 * directory.
 */
public final class Containerd implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Containerd.class);

    /** The daemon the Debian package installs. */
    public static final Path CONTAINERD = Path.of("/usr/bin/containerd");
    /** Its command-line client. */
    public static final Path CTR = Path.of("/usr/bin/ctr");
    /** The OCI runtime containerd's runc shim runs. */
    public static final Path RUNC = Path.of("/usr/sbin/runc");

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration CTR_TIMEOUT = Duration.ofSeconds(60);
    /** Registry host names as containerd's hosts directory expects them ({@code host[:port]}). */
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.-]+(:\\d{1,5})?|\\[[0-9a-fA-F:]+\\](:\\d{1,5})?");
    /** {@code ctr images pull} prints the fetch's total time before it starts unpacking. */
    private static final Pattern ELAPSED = Pattern.compile("elapsed: ([0-9.]+) ?s");

    private final Path dir;
    private final Path socket;
    private final Path hostsDir;
    private final Path log;
    private final Process process;
    private final String snapshotter;
    private final AtomicInteger containerIds = new AtomicInteger();
    /** Prepended to the commands that reach the network ({@code nsenter --net=...}), empty in the caller's namespace. */
    private final List<String> netns;
    private volatile boolean closed;

    /** What one {@code ctr images pull} took: until all content was fetched, and until it was unpacked too. */
    public record Pull(String ref, Duration total, Optional<Duration> fetched, String output) {
    }

    private Containerd(Path dir, Path socket, Path hostsDir, Path log, Process process, String snapshotter,
                       List<String> netns) {
        this.netns = netns;
        this.dir = dir;
        this.socket = socket;
        this.hostsDir = hostsDir;
        this.log = log;
        this.process = process;
        this.snapshotter = snapshotter;
    }

    /**
     * Skips the calling test when containerd cannot run here (tools missing, or not root); under
     * {@code CI=true} fails instead, so a CI machine without them does not pass silently.
     */
    public static void requireAvailable() {
        Optional<String> missing = unavailableReason();
        if (missing.isEmpty()) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("containerd tests cannot run under CI=true: " + missing.get());
        }
        Assumptions.abort("skipped: " + missing.get());
    }

    /** Why containerd cannot run here, if it cannot. */
    public static Optional<String> unavailableReason() {
        for (Path tool : List.of(CONTAINERD, CTR, RUNC)) {
            if (!Files.isExecutable(tool)) {
                return Optional.of(tool + " is missing: install the Debian packages 'containerd' and 'runc' "
                        + "(scripts/install-system-packages.sh)");
            }
        }
        if (!isRoot()) {
            return Optional.of("containerd needs root (mounts, cgroups)");
        }
        return Optional.empty();
    }

    private static boolean isRoot() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("Uid:")) {
                    return l.split("\\s+")[2].equals("0"); // effective uid
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /**
     * Starts containerd with everything under {@code dir} (created if missing) and waits until it
     * answers on its socket.
     *
     * @throws IllegalStateException if containerd or runc is missing
     * @throws UncheckedIOException if containerd does not come up (the message holds its log)
     */
    public static Containerd start(Path dir) {
        return start(dir, null);
    }

    /**
     * Like {@link #start(Path)}, with containerd and the {@code ctr} commands that fetch or run ({@link #pull},
     * {@link #run}) in the named network namespace ({@code /run/netns/NAME}, entered with {@code nsenter --net}:
     * only the network namespace, mounts stay shared); {@code ctr} still reaches containerd by its unix socket.
     *
     * @param netns the namespace's name, or {@code null} for the caller's
     */
    public static Containerd start(Path dir, String netns) {
        unavailableReason().ifPresent(r -> {
            throw new IllegalStateException(r);
        });
        try {
            return launch(dir.toAbsolutePath(), netnsPrefix(netns));
        } catch (IOException e) {
            throw new UncheckedIOException("containerd did not start in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** {@code nsenter --net=/run/netns/NAME --}, or nothing for {@code null}. */
    static List<String> netnsPrefix(String netns) {
        if (netns == null) {
            return List.of();
        }
        if (!netns.matches("[A-Za-z0-9_.-]+") || netns.startsWith(".")) {
            throw new IllegalArgumentException("not a network namespace name: " + netns);
        }
        return List.of("nsenter", "--net=/run/netns/" + netns, "--");
    }

    private static Containerd launch(Path dir, List<String> netns) throws IOException {
        Files.createDirectories(dir);
        Path socket = dir.resolve("containerd.sock");
        // unix socket paths are limited to 108 bytes; the shim's ttrpc socket name is derived elsewhere
        if (socket.toString().length() > 100) {
            throw new IOException("directory path too long for a unix socket: " + socket);
        }
        Path hosts = Files.createDirectories(dir.resolve("hosts"));
        Path config = dir.resolve("config.toml");
        Files.writeString(config, config(dir, socket));
        Path log = dir.resolve("containerd.log");
        List<String> cmd = new ArrayList<>(netns);
        cmd.addAll(List.of(CONTAINERD.toString(), "--config", config.toString()));
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        Containerd c = null;
        try {
            awaitReady(p, socket, log);
            c = new Containerd(dir, socket, hosts, log, p, pickSnapshotter(socket), netns);
            LOG.info("event=containerd_started dir={} snapshotter={} pid={}", dir, c.snapshotter, p.pid());
            return c;
        } finally {
            if (c == null) {
                p.destroyForcibly();
                waitQuietly(p, Duration.ofSeconds(5));
                unmountUnder(dir);
            }
        }
    }

    /**
     * The daemon's config: own root/state/sockets, no CRI plugin (no Kubernetes here), no metrics
     * listener, and the {@code opt} plugin kept out of /opt.
     */
    static String config(Path dir, Path socket) {
        return "version = 2\n"
                + "root = \"" + toml(dir.resolve("root")) + "\"\n"
                + "state = \"" + toml(dir.resolve("state")) + "\"\n"
                + "disabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.snapshotter.v1.aufs\","
                + " \"io.containerd.snapshotter.v1.btrfs\", \"io.containerd.snapshotter.v1.zfs\","
                + " \"io.containerd.snapshotter.v1.devmapper\"]\n"
                + "[grpc]\n  address = \"" + toml(socket) + "\"\n"
                + "[ttrpc]\n  address = \"" + toml(socket) + ".ttrpc\"\n"
                + "[metrics]\n  address = \"\"\n"
                + "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"" + toml(dir.resolve("opt")) + "\"\n";
    }

    private static String toml(Path p) {
        String s = p.toString();
        if (s.contains("\"") || s.contains("\\") || s.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("path unsuitable for a TOML string: " + s);
        }
        return s;
    }

    private static void awaitReady(Process p, Path socket, Path log) throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("containerd exited with status " + p.exitValue() + "; log:\n" + tail(log));
            }
            if (Files.exists(socket) && ctr(socket, Duration.ofSeconds(10), "version").ok()) {
                return;
            }
            pause(Duration.ofMillis(100));
        }
        throw new IOException("containerd did not answer on " + socket + " within " + START_TIMEOUT + "; log:\n"
                + tail(log));
    }

    /**
     * overlayfs where containerd reports it usable (it test-mounts one at start-up), else native, which
     * works on any filesystem; {@code LAYERSWARM_CONTAINERD_SNAPSHOTTER} overrides.
     */
    private static String pickSnapshotter(Path socket) throws IOException {
        String forced = System.getenv("LAYERSWARM_CONTAINERD_SNAPSHOTTER");
        if (forced != null && !forced.isBlank()) {
            return forced.trim();
        }
        Result plugins = ctr(socket, CTR_TIMEOUT, "plugins", "ls");
        if (!plugins.ok()) {
            throw new IOException("ctr plugins ls failed: " + plugins.output());
        }
        return overlayfsUsable(plugins.output()) ? "overlayfs" : "native";
    }

    /** Whether {@code ctr plugins ls} output lists the overlayfs snapshotter with status ok. */
    static boolean overlayfsUsable(String pluginsLs) {
        return pluginsLs.lines().map(l -> l.trim().split("\\s+"))
                .anyMatch(f -> f.length >= 4 && f[0].equals("io.containerd.snapshotter.v1") && f[1].equals("overlayfs")
                        && f[f.length - 1].equals("ok"));
    }

    /** The gRPC socket ({@code ctr -a}). */
    public Path socket() {
        return socket;
    }

    /** The {@code --hosts-dir} directory that {@link #mirror} writes into. */
    public Path hostsDir() {
        return hostsDir;
    }

    /** The snapshotter pulls and runs use. */
    public String snapshotter() {
        return snapshotter;
    }

    /** The directory holding root, state, socket, hosts and the log. */
    public Path dir() {
        return dir;
    }

    /** containerd's process id. */
    public long pid() {
        return process.pid();
    }

    /** containerd's log so far (last few KB). */
    public String logTail() {
        return tail(log);
    }

    /**
     * Writes {@code hosts/<registryHost>/hosts.toml}: pulls of {@code registryHost/...} try the mirrors in
     * order (pull and resolve), then {@code server}; with no mirrors they go to {@code server} only.
     */
    public Path mirror(String registryHost, URI server, List<URI> mirrors) {
        Path file = hostsToml(hostsDir, registryHost, server, mirrors);
        LOG.info("event=containerd_hosts registry={} mirrors={}", registryHost, mirrors);
        return file;
    }

    /** Writes the {@code hosts.toml} of one registry host under {@code hostsDir}; see {@link #mirror}. */
    public static Path hostsToml(Path hostsDir, String registryHost, URI server, List<URI> mirrors) {
        if (!HOST.matcher(registryHost).matches()) {
            throw new IllegalArgumentException("not a registry host[:port]: " + registryHost);
        }
        StringBuilder b = new StringBuilder("server = \"").append(url(server)).append("\"\n");
        // containerd 1.6 logs "invalid `host` tree" for a file without host entries: name the server then
        for (URI m : mirrors.isEmpty() ? List.of(server) : mirrors) {
            b.append("\n[host.\"").append(url(m)).append("\"]\n  capabilities = [\"pull\", \"resolve\"]\n");
        }
        try {
            Path d = Files.createDirectories(hostsDir.resolve(registryHost));
            Path tmp = Files.writeString(d.resolve("hosts.toml.tmp"), b.toString());
            return Files.move(tmp, d.resolve("hosts.toml"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write hosts.toml for " + registryHost, e);
        }
    }

    private static String url(URI u) {
        String s = u.toString();
        if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null
                || s.contains("\"") || s.contains("\\")) {
            throw new IllegalArgumentException("not an http(s) registry URL: " + s);
        }
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    /**
     * {@code ctr images pull --hosts-dir HOSTS --snapshotter S REF}: fetches and unpacks.
     *
     * @throws UncheckedIOException if ctr fails or times out (the message holds its output)
     */
    public Pull pull(String ref, Duration timeout) {
        long t0 = System.nanoTime();
        Result r = ctrInNetns(timeout, "images", "pull", "--hosts-dir", hostsDir.toString(), "--snapshotter",
                snapshotter, ref);
        Duration total = Duration.ofNanos(System.nanoTime() - t0);
        if (!r.ok()) {
            throw new UncheckedIOException(new IOException("ctr images pull " + ref + " failed: " + tailOf(r.output())));
        }
        return new Pull(ref, total, fetchTime(r.output()), r.output());
    }

    /** The last {@code elapsed: X s} before {@code unpacking} in ctr's pull output. */
    static Optional<Duration> fetchTime(String pullOutput) {
        int unpack = pullOutput.indexOf("unpacking ");
        Matcher m = ELAPSED.matcher(unpack < 0 ? pullOutput : pullOutput.substring(0, unpack));
        Duration d = null;
        while (m.find()) {
            d = Duration.ofNanos((long) (Double.parseDouble(m.group(1)) * 1e9));
        }
        return Optional.ofNullable(d);
    }

    /**
     * {@code ctr images rm --sync REF}: removes the image and waits for containerd's garbage collection
     * to delete the content and snapshots nothing else references (what kubelet's image GC does).
     *
     * @throws UncheckedIOException if ctr fails
     */
    public void removeImage(String ref) {
        Result r = ctr(socket, CTR_TIMEOUT, "images", "rm", "--sync", ref);
        if (!r.ok()) {
            throw new UncheckedIOException(new IOException("ctr images rm " + ref + " failed: " + tailOf(r.output())));
        }
    }

    /** Digests in containerd's content store ({@code ctr content ls -q}). */
    public List<String> contentDigests() {
        Result r = ctr(socket, CTR_TIMEOUT, "content", "ls", "-q");
        if (!r.ok()) {
            throw new UncheckedIOException(new IOException("ctr content ls failed: " + r.output()));
        }
        return r.output().lines().map(String::trim).filter(l -> l.startsWith("sha256:")).toList();
    }

    /**
     * {@code ctr run --rm --snapshotter S REF ID COMMAND...}: runs a container with runc and returns what
     * it wrote to stdout. The image needs {@code /bin/sh}: stdout goes to a file in a directory bind-mounted
     * from the host, read after the container exited, because {@code ctr run} without a terminal can return
     * before it has copied all of the container's output (seen on a loaded machine: empty output).
     *
     * @throws UncheckedIOException if the container exits non-zero or times out (the message holds its
     *         output)
     */
    public String run(String ref, Duration timeout, String... command) {
        // runc's state root (/run/containerd/runc/<namespace>) is shared by every containerd on the host:
        // the id names this instance too, so two instances in one JVM cannot collide
        String id = "ls-" + ProcessHandle.current().pid() + "-" + Integer.toHexString(dir.hashCode()) + "-"
                + containerIds.incrementAndGet();
        Path out;
        try {
            out = Files.createDirectories(dir.resolve("run-output").resolve(id));
            // images whose config names a non-root USER (redis, memcached) must be able to write the file
            Files.setPosixFilePermissions(out, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> args = new ArrayList<>(List.of("run", "--rm", "--snapshotter", snapshotter, "--mount",
                "type=bind,src=" + out + ",dst=/.ls-out,options=rbind:rw", ref, id,
                "/bin/sh", "-c", "\"$@\" > /.ls-out/stdout", "sh"));
        args.addAll(List.of(command));
        Result r = ctrInNetns(timeout, args.toArray(String[]::new));
        String stdout;
        try {
            Path file = out.resolve("stdout");
            stdout = Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!r.ok()) {
            throw new UncheckedIOException(new IOException("ctr run " + ref + " " + String.join(" ", command)
                    + " failed: " + tailOf(stdout + r.output()) + "\ncontainerd log:\n" + tail(log)));
        }
        return stdout;
    }

    /** Removes leftover containers, stops containerd and its shims, unmounts what is left under the directory. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (process.isAlive()) {
                removeContainers();
            }
        } catch (RuntimeException e) {
            LOG.warn("event=containerd_cleanup_failed step=containers error={}", e.toString());
        }
        process.destroy();
        if (!waitQuietly(process, STOP_TIMEOUT)) {
            process.destroyForcibly();
            waitQuietly(process, Duration.ofSeconds(5));
        }
        killShims(socket);
        unmountUnder(dir);
        LOG.info("event=containerd_stopped dir={}", dir);
    }

    private void removeContainers() {
        Result ls = ctr(socket, CTR_TIMEOUT, "containers", "ls", "-q");
        for (String id : ls.output().lines().map(String::trim).filter(s -> !s.isEmpty()).toList()) {
            ctr(socket, CTR_TIMEOUT, "tasks", "rm", "-f", id);
            ctr(socket, CTR_TIMEOUT, "containers", "rm", id);
        }
    }

    /** Shims detach from containerd; the ones serving this instance name its socket on their command line. */
    static void killShims(Path socket) {
        String marker = socket.toString();
        List<ProcessHandle> shims = ProcessHandle.allProcesses()
                .filter(h -> h.info().commandLine().map(c -> c.contains("containerd-shim") && c.contains(marker))
                        .orElse(false))
                .toList();
        shims.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : shims) {
            try {
                h.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("event=containerd_shim_left pid={} error={}", h.pid(), e.toString());
            }
        }
    }

    /** Unmounts every mount point below {@code dir}, deepest first (lazily if busy). */
    public static void unmountUnder(Path dir) {
        List<String> points = mountPointsUnder(dir, Path.of("/proc/self/mountinfo"));
        for (String mp : points) {
            if (!run(List.of("umount", mp), Duration.ofSeconds(20)).ok()) {
                Result lazy = run(List.of("umount", "-l", mp), Duration.ofSeconds(20));
                if (!lazy.ok()) {
                    LOG.warn("event=containerd_umount_failed path={} output={}", mp, lazy.output().trim());
                }
            }
        }
    }

    /** Mount points from a mountinfo file that lie under {@code dir}, deepest first. */
    static List<String> mountPointsUnder(Path dir, Path mountinfo) {
        String prefix = dir.toAbsolutePath().normalize() + "/";
        List<String> out = new ArrayList<>();
        try {
            for (String l : Files.readAllLines(mountinfo, StandardCharsets.UTF_8)) {
                String[] f = l.split(" ");
                if (f.length > 4) {
                    String mp = unescapeMountinfo(f[4]);
                    if (mp.startsWith(prefix)) {
                        out.add(mp);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + mountinfo, e);
        }
        out.sort(Comparator.comparingInt(String::length).reversed());
        return out;
    }

    /** mountinfo escapes space, tab, newline and backslash as {@code \ooo}. */
    static String unescapeMountinfo(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()
                    && s.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Deletes a directory tree after unmounting anything below it (best effort). */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        unmountUnder(dir);
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("event=containerd_delete_failed dir={} error={}", dir, e.toString());
        }
    }

    record Result(boolean ok, String output) {
    }

    static Result ctr(Path socket, Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>(List.of(CTR.toString(), "-a", socket.toString()));
        cmd.addAll(List.of(args));
        return run(cmd, timeout);
    }

    /** {@code ctr} in this instance's network namespace (where it fetches from registries and mirrors). */
    private Result ctrInNetns(Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>(netns);
        cmd.addAll(List.of(CTR.toString(), "-a", socket.toString()));
        cmd.addAll(List.of(args));
        return run(cmd, timeout);
    }

    /** Runs a command to completion within {@code timeout}, stdout and stderr merged. */
    private static Result run(List<String> cmd, Duration timeout) {
        Path out = null;
        try {
            out = Files.createTempFile("layerswarm-ctr-", ".out");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!done) {
                p.destroyForcibly();
                waitQuietly(p, Duration.ofSeconds(5));
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            if (!done) {
                return new Result(false, String.join(" ", cmd) + " timed out after " + timeout + ":\n" + text);
            }
            return new Result(p.exitValue() == 0, text);
        } catch (IOException e) {
            return new Result(false, String.join(" ", cmd) + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(false, String.join(" ", cmd) + ": interrupted");
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temp file
                }
            }
        }
    }

    private static boolean waitQuietly(Process p, Duration d) {
        try {
            return p.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void pause(Duration d) throws IOException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for containerd", e);
        }
    }

    private static String tailOf(String s) {
        return s.length() > 4000 ? "..." + s.substring(s.length() - 4000) : s;
    }

    private static String tail(Path file) {
        try {
            return Files.exists(file) ? tailOf(Files.readString(file, StandardCharsets.UTF_8)) : "(no log)";
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }
}
