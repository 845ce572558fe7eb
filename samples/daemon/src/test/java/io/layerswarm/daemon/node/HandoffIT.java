package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.daemon.CliRun;
import io.layerswarm.handoff.ContainerRuntime;
import io.layerswarm.handoff.EntryType;
import io.layerswarm.handoff.HandoffReport;
import io.layerswarm.handoff.Manifest;
import io.layerswarm.handoff.TreeEntry;
import io.layerswarm.handoff.TreeScanner;
import io.layerswarm.handoff.containerd.CtrRuntime;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Containerd;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.Processes;
import io.layerswarm.testing.RegistryFixture;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Service handoff between two {@code layerswarm node} processes, each with its own containerd, in front
 * of a real registry holding the corpus. A container from {@code clock:2} writes state into its writable
 * layer while it runs; {@code layerswarm handoff prepare} has the target fetch the image from the source
 * node, {@code layerswarm handoff run} moves the container. No CRIU here: the process restarts on the
 * target (its script resumes from the moved files); memory is not moved.
 */
@Tag("root")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HandoffIT {
    /**
     * Per JVM: the target's task runs under runc's default root, one per host, so two runs of this class
     * (or the bench) at once on one machine must not share a container id.
     */
    static final String CONTAINER = "svc-" + ProcessHandle.current().pid();
    /**
     * First start: state files (one incompressible, one a copy of an image file), an image file deleted (an
     * overlay whiteout), an image directory replaced by a file, another replaced by a fresh directory (an
     * overlay opaque directory); every start: a counter.
     */
    private static final String SCRIPT = "if [ ! -f /state/ready ]; then mkdir -p /state/sub /state/gone;"
            + " echo hello > /state/greeting; head -c 300000 /dev/urandom > /state/sub/blob;"
            + " cp /bin/busybox /state/busybox-copy; ln -s greeting /state/link; ln /state/greeting /state/hard;"
            + " chmod 0640 /state/greeting; echo x > /state/gone/f; rm -r /state/gone;"
            + " rm /etc/clock.conf; rm -r /usr/share/bug; echo flat > /usr/share/bug;"
            + " rm -rf /usr/share/zoneinfo/Asia; mkdir /usr/share/zoneinfo/Asia; echo new > /usr/share/zoneinfo/Asia/fresh;"
            + " touch /state/ready; fi;"
            + " i=$(cat /state/counter 2>/dev/null || echo 0);"
            + " while true; do i=$((i+1)); echo $i >> /state/log; echo $i > /state/counter; sleep %s; done";

    @TempDir
    Path tmp;
    private final Closer closer = new Closer();
    /** The registry with the corpus, one per class: the tests only read it (and count its bytes as deltas). */
    private final Closer classCloser = new Closer();
    private RegistryFixture registry;

    @BeforeAll
    void startRegistry() throws Exception {
        Containerd.requireAvailable();
        registry = classCloser.add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        Corpus.small().pushTo(registry.baseUri().toString());
    }

    @AfterAll
    void stopRegistry() throws Exception {
        classCloser.close();
    }

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
    }

    /** Registry, two containerds, two nodes (target bootstrapped from source), source container running. */
    private final class Pair {
        RegistryFixture registry;
        Containerd c0;
        Containerd c1;
        NodeProcess source;
        NodeProcess target;
        String control0;
        String targetPeer;
        String ref;
        Corpus.Image image;
        Path dir;
        List<String> sourceNodeFlags;

        Pair(List<String> sourceFlags, String sleep) throws Exception {
            image = Corpus.small().image("clock:2");
            registry = HandoffIT.this.registry;
            // a directory of its own: the temp directory may be the class's
            dir = Files.createTempDirectory(tmp, "pair");
            c0 = closer.add(Containerd.start(dir.resolve("c0")));
            c1 = closer.add(Containerd.start(dir.resolve("c1")));
            List<String> f0 = new ArrayList<>(flags(c0));
            f0.addAll(sourceFlags);
            sourceNodeFlags = List.copyOf(f0);
            source = closer.add(NodeProcess.start("handoff-src", dir.resolve("n0"), registry.baseUri().toString(), f0));
            List<String> f1 = new ArrayList<>(flags(c1));
            f1.addAll(List.of("--bootstrap", source.listen));
            target = closer.add(NodeProcess.start("handoff-dst", dir.resolve("n1"), registry.baseUri().toString(), f1));
            target.awaitEvent(l -> l.contains("event=kad_bootstrapped"), 60);
            control0 = source.awaitEvent(l -> l.startsWith("handoff-control "), 10).substring("handoff-control ".length());
            targetPeer = target.listen.substring(target.listen.lastIndexOf("/p2p/") + 5);
            c0.mirror(registry.hostPort(), registry.baseUri(), List.of(URI.create("http://" + source.mirror)));
            c1.mirror(registry.hostPort(), registry.baseUri(), List.of(URI.create("http://" + target.mirror)));
            ref = registry.hostPort() + "/" + image.ref();
            c0.pull(ref, Duration.ofMinutes(2));
            runSource(c0, ref, String.format(SCRIPT, sleep));
            Await.until(Duration.ofSeconds(30), "the container wrote its state", () -> exec(c0, "cat /state/counter"),
                    s -> s.startsWith("OK "));
        }

        long registryBlobBytes() {
            return registry.blobBytesServed().values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** Node flags for a node using containerd {@code c}, with its handoff control API on loopback. */
    static List<String> flags(Containerd c) {
        return List.of("--containerd-socket", c.socket().toString(), "--containerd-hosts-dir",
                c.hostsDir().toString(), "--containerd-snapshotter", c.snapshotter(),
                "--handoff-control", "127.0.0.1:0");
    }

    /** {@code ctr -a SOCKET ARGS}: its output; fails on a non-zero exit. */
    static String ctr(Containerd c, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ctr", "-a", c.socket().toString()));
        cmd.addAll(List.of(args));
        return Processes.run(60, cmd.toArray(String[]::new));
    }

    /**
     * Starts the source container from {@code ref} running {@code sh -c script}. Its runc state and its
     * cgroup are its own: runc's default root and cgroup path ({@code /default/svc}) are one per host, and
     * the source task, frozen until the target runs, still holds both when the target (same id, other
     * containerd, same host here; another host in use) starts its task. One cgroup path component: runc
     * removes it with the task.
     */
    static void runSource(Containerd c0, String ref, String script) throws Exception {
        String own = "ls-handoff-src-" + ProcessHandle.current().pid() + "-" + Integer.toHexString(c0.dir().hashCode());
        ctr(c0, "run", "-d", "--snapshotter", c0.snapshotter(), "--runc-root", c0.dir().resolve("runc").toString(),
                "--cgroup", "/" + own, ref, CONTAINER, "/bin/sh", "-c", script);
    }

    /** {@code sh -c CMD} in the container's task: "OK output", or "FAILED message" while it is not there. */
    static String exec(Containerd c, String command) {
        try {
            return "OK " + ctr(c, "tasks", "exec", "--exec-id", "x" + System.nanoTime(), CONTAINER, "/bin/sh", "-c", command);
        } catch (Exception e) {
            return "FAILED " + e.getMessage();
        }
    }

    /** Starts {@code layerswarm handoff run} in the background and waits until the target's log shows {@code event}. */
    private static CompletableFuture<CliRun> runUntilTargetLogs(Pair p, String event) throws InterruptedException {
        CompletableFuture<CliRun> run = CompletableFuture.supplyAsync(() -> CliRun.of("handoff", "run",
                "--container", CONTAINER, "--target", p.targetPeer, "--control", p.control0));
        Await.until(Duration.ofSeconds(60), "the target logs " + event, () -> {
            try {
                return p.target.stderrText().contains(event);
            } catch (java.io.IOException e) {
                return false;
            }
        });
        return run;
    }

    private static CtrRuntime runtime(Containerd c) {
        return new CtrRuntime(c.socket(), c.hostsDir(), c.snapshotter(), Duration.ofMinutes(1));
    }

    @Test
    void containerMovesWithItsFilesAndOnlyTheWritableLayerCrossesAtHandoffTime() throws Exception {
        Pair p = new Pair(List.of(), "1");
        long layerBytes = p.image.layers().stream().mapToLong(Corpus.Layer::size).sum();
        long busybox = Long.parseLong(exec(p.c0, "stat -c %s /bin/busybox").substring(3).trim());

        CliRun prep = CliRun.of("handoff", "prepare", "--container", CONTAINER, "--target", p.targetPeer,
                "--control", p.control0);
        assertEquals(0, prep.status(), prep.out() + prep.err());
        assertTrue(prep.out().contains("\"name\":\"pre-sync\""), prep.out());
        long registryAfterPrepare = p.registryBlobBytes();
        for (Corpus.Layer l : p.image.layers()) {
            String fetched = p.target.awaitEvent(e -> e.contains("event=blob_fetched") && e.contains(l.digest()), 10);
            assertTrue(fetched.contains("registry_bytes=0"), "pre-sync from the source node, not the registry: "
                    + fetched);
        }
        int fetchedBeforeRun = (int) p.target.events().stream().filter(e -> e.contains("event=blob_fetched")).count();

        CliRun run = CliRun.of("handoff", "run", "--container", CONTAINER, "--target", p.targetPeer,
                "--control", p.control0);
        assertEquals(0, run.status(), run.out() + run.err());
        HandoffReport report = HandoffReport.parse(run.out().trim());
        Map<String, HandoffReport.Stage> stages = new java.util.LinkedHashMap<>();
        report.stages().forEach(s -> stages.put(s.name(), s));
        System.out.println("handoff-report: " + report.toJson());
        assertTrue(report.stages().stream().anyMatch(s -> s.name().matches("round-\\d+")), report.toJson());
        for (String s : List.of("pre-sync", "final-transfer", "restore", "downtime", "total")) {
            assertTrue(stages.containsKey(s), s + " in " + report.toJson());
        }
        assertTrue(stages.get("pre-sync").bytes() >= layerBytes, "pre-sync fetched the image: " + report.toJson());

        // the image was not sent again at handoff time: no blob fetched by the target, none served by the registry
        assertEquals(fetchedBeforeRun, p.target.events().stream().filter(e -> e.contains("event=blob_fetched")).count(),
                "blobs fetched by the target during the run: " + p.target.events());
        assertEquals(registryAfterPrepare, p.registryBlobBytes(), "registry blob bytes during the run");
        // in committed rounds the 300 kB random file crossed once; the busybox copy (content the target's image
        // holds) never did (an aborted round, a file written while sent, is reported apart as round-N-aborted)
        long handoffBytes = report.stages().stream().filter(s -> s.name().matches("round-\\d+")
                || s.name().equals("final-transfer")).mapToLong(HandoffReport.Stage::bytes).sum();
        assertTrue(handoffBytes >= 300_000 && handoffBytes < 300_000 + Math.min(300_000, busybox),
                "writable-layer bytes on the link: " + handoffBytes + " in " + report.toJson());

        // source stopped, target running
        assertFalse(runtime(p.c0).running(CONTAINER), "source task stopped");
        assertTrue(runtime(p.c1).running(CONTAINER), "target task running");

        // file by file: the source's final writable layer is on the target (the counter moves on there)
        Manifest before = TreeScanner.scan(runtime(p.c0).writableLayer(CONTAINER).dir().resolve("state"));
        for (TreeEntry e : before.entries().values()) {
            if (e.path().equals("counter") || e.path().equals("log")) {
                continue;
            }
            if (e.type() == EntryType.FILE) {
                String sum = Await.until(Duration.ofSeconds(20), "sha256 of " + e.path() + " on the target",
                        () -> exec(p.c1, "sha256sum /state/" + e.path()), s -> s.startsWith("OK "));
                assertEquals(e.sha256(), sum.substring(3).split("\\s+")[0], e.path());
                String mode = exec(p.c1, "stat -c %a /state/" + e.path());
                assertEquals("OK " + Integer.toOctalString(e.mode()), mode.trim(), "mode of " + e.path());
            }
        }
        assertEquals(Map.of("greeting", "FILE", "hard", "HARDLINK", "link", "SYMLINK", "busybox-copy", "FILE",
                        "sub/blob", "FILE"),
                before.entries().values().stream().filter(e -> !e.path().equals("counter") && !e.path().equals("log")
                                && !e.path().equals("ready") && !e.path().equals("sub"))
                        .collect(java.util.stream.Collectors.toMap(TreeEntry::path, e -> e.type().name())));
        assertEquals("OK greeting", exec(p.c1, "readlink /state/link").trim());
        assertEquals("OK 2", exec(p.c1, "stat -c %h /state/greeting").trim(), "hard link kept");
        assertFalse(exec(p.c1, "ls /state").contains("gone"), "deleted directory stays deleted");
        // image entries the container deleted or replaced: an overlay whiteout, a file over a directory
        Manifest upper = TreeScanner.scan(runtime(p.c0).writableLayer(CONTAINER).dir());
        assertEquals(EntryType.WHITEOUT, upper.entries().get("etc/clock.conf").type(), "whiteout on the source");
        assertEquals(EntryType.FILE, upper.entries().get("usr/share/bug").type());
        assertEquals("OK absent", exec(p.c1, "[ -e /etc/clock.conf ] && echo present || echo absent").trim(),
                "the image's deleted file stays deleted on the target");
        assertEquals("OK flat", exec(p.c1, "[ -f /usr/share/bug ] && cat /usr/share/bug").trim(),
                "the image's directory is a file on the target");
        assertTrue(upper.entries().get("usr/share/zoneinfo/Asia").opaque(), "opaque directory on the source");
        assertTrue(exec(p.c1, "ls /usr/share/zoneinfo/Europe").contains("Berlin"), "the image's other zoneinfo "
                + "directories stay: " + exec(p.c1, "ls /usr/share/zoneinfo"));
        assertEquals("OK fresh", exec(p.c1, "ls -A /usr/share/zoneinfo/Asia").trim(),
                "the image's directory replaced by a fresh one shows only the new content on the target");
        String sourceLog = Files.readString(runtime(p.c0).writableLayer(CONTAINER).dir().resolve("state/log"));
        int last = Integer.parseInt(sourceLog.strip().lines().reduce((a, b) -> b).orElseThrow());
        Await.until(Duration.ofSeconds(30), "the target's counter passes the source's " + last,
                () -> exec(p.c1, "cat /state/counter"),
                s -> s.startsWith("OK ") && Integer.parseInt(s.substring(3).trim()) > last);
        String targetLog = exec(p.c1, "cat /state/log").substring(3);
        assertTrue(targetLog.startsWith(sourceLog), "the target's log continues the source's");
    }

    @Test
    void targetDyingMidWayLeavesTheSourceRunning() throws Exception {
        // many paced rounds of a log growing every 50 ms: the handoff is still in its rounds when the target dies
        Pair p = new Pair(List.of("--handoff-max-rounds", "1000", "--handoff-small-diff", "0",
                "--handoff-round-interval-ms", "200"), "0.05");
        CompletableFuture<CliRun> run = runUntilTargetLogs(p, "event=handoff.roundCommitted");
        p.target.process.destroyForcibly();
        CliRun r = run.get(90, TimeUnit.SECONDS);
        assertNotEquals(0, r.status(), "the handoff failed: " + r.out());
        assertTrue(r.err().contains("502"), r.err());
        assertTrue(runtime(p.c0).running(CONTAINER), "source task still running");
        String c1 = exec(p.c0, "cat /state/counter");
        Await.until(Duration.ofSeconds(20), "the source's counter moves on", () -> exec(p.c0, "cat /state/counter"),
                s -> s.startsWith("OK ") && !s.equals(c1));
        assertEquals("OK hello", exec(p.c0, "cat /state/greeting").trim());
    }

    @Test
    void failedRestoreAfterTheFreezeThawsTheSourceAndNothingRunsOnTheTarget() throws Exception {
        // paced rounds give time to take the target's containerd away after begin; the rounds still work
        // (they land in the node), the restore cannot: the source, frozen by then, must run again
        Pair p = new Pair(List.of("--handoff-max-rounds", "10", "--handoff-small-diff", "0",
                "--handoff-round-interval-ms", "300"), "0.05");
        CompletableFuture<CliRun> run = runUntilTargetLogs(p, "event=handoff.begun");
        ProcessHandle containerd = ProcessHandle.of(p.c1.pid()).orElseThrow();
        containerd.destroyForcibly();
        containerd.onExit().get(20, TimeUnit.SECONDS);
        CliRun r = run.get(90, TimeUnit.SECONDS);
        assertNotEquals(0, r.status(), "the handoff failed: " + r.out());
        assertTrue(p.source.stderrText().contains("frozen=true"), "the failure came after the source froze");
        assertTrue(runtime(p.c0).running(CONTAINER), "source task running again");
        assertEquals("OK hello", Await.until(Duration.ofSeconds(20), "the source answers",
                () -> exec(p.c0, "cat /state/greeting").trim(), x -> x.startsWith("OK ")));
        assertFalse(p.target.stderrText().contains("event=handoff.taskStarted"), "nothing started on the target");
    }

    @Test
    void aSourceNodeKilledWhileItsTaskIsFrozenThawsItWhenItStartsAgain() throws Exception {
        // paced rounds: the target's containerd is frozen (SIGSTOP) right after begin, seconds before the
        // restore needs it (begin is its last use before that); the restore's `ctr tasks start` then hangs,
        // so the source sits frozen inside the downtime until it is killed
        Pair p = new Pair(List.of("--handoff-max-rounds", "6", "--handoff-small-diff", "0",
                "--handoff-round-interval-ms", "1000"), "0.05");
        CompletableFuture<CliRun> run = runUntilTargetLogs(p, "event=handoff.begun");
        String targetContainerd = String.valueOf(p.c1.pid());
        Processes.run(10, "kill", "-STOP", targetContainerd);
        try {
            Await.until(Duration.ofSeconds(60), "the source froze its task for the downtime",
                    () -> taskState(p.c0), s -> s == ContainerRuntime.TaskState.PAUSED);
            p.source.process.destroyForcibly();
            assertTrue(p.source.process.waitFor(20, TimeUnit.SECONDS), "source node killed");
            CliRun r = run.get(90, TimeUnit.SECONDS);
            assertNotEquals(0, r.status(), "the handoff failed: " + r.out());
            assertEquals(ContainerRuntime.TaskState.PAUSED, taskState(p.c0), "the crash left the task frozen");

            // the target goes too: the restarted source cannot ask it whether it started the container
            // (resolve), so with no wait for it (--handoff-resolve-wait-ms 0) the frozen task is thawed at once;
            // TargetSessionsTest / FreezeJournalTest cover a target that answers
            p.target.process.destroyForcibly();
            List<String> again0 = new ArrayList<>(p.sourceNodeFlags);
            again0.addAll(List.of("--handoff-resolve-wait-ms", "0"));
            NodeProcess again = closer.add(NodeProcess.start("handoff-src-again", p.dir.resolve("n0"),
                    p.registry.baseUri().toString(), again0));
            Await.until(Duration.ofSeconds(60), "the restarted source recovers " + CONTAINER, () -> {
                try {
                    return again.stderrText().contains("event=handoff.recovered container=" + CONTAINER
                            + " state=FROZEN");
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            assertEquals(ContainerRuntime.TaskState.RUNNING, taskState(p.c0), "thawed");
            String c1 = exec(p.c0, "cat /state/counter");
            Await.until(Duration.ofSeconds(20), "the source's counter moves on", () -> exec(p.c0, "cat /state/counter"),
                    s -> s.startsWith("OK ") && !s.equals(c1));
            assertEquals("OK hello", exec(p.c0, "cat /state/greeting").trim());
            assertFalse(Files.exists(p.dir.resolve("n0/cache/handoff/frozen/" + CONTAINER + ".frozen")),
                    "marker removed");
        } finally {
            // nothing continues the target's restore: its node and its frozen containerd go
            p.target.process.destroyForcibly();
            Processes.run(10, "kill", "-KILL", targetContainerd);
        }
    }

    private static ContainerRuntime.TaskState taskState(Containerd c) {
        try {
            return runtime(c).taskState(CONTAINER);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
