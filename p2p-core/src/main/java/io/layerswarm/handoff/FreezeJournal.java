package io.layerswarm.handoff;

import io.layerswarm.libp2p.crypto.SecretFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source's durable record of the tasks it froze for a handoff, so that a crash of the node inside
 * the downtime does not leave a container frozen for good. One small file per container in the node's
 * state directory: written (fsynced, atomically renamed) before the handoff's rounds, so well before
 * {@code pause} and outside the downtime (a marked task still running is simply left running), rewritten as
 * committed once the target runs the container, removed after the source task was stopped or thawed.
 * On node start {@link #recover} finishes what a crash interrupted: a task frozen for a handoff that
 * never committed is thawed (the container keeps serving here), one that committed is stopped (the
 * target runs it).
 *
 * <p>A crash between the target's start of the container and the committed record leaves a marker
 * that says "frozen". Recovery therefore does not thaw on the marker alone: it asks the target over
 * the handoff protocol ({@link Resolver}, {@code resolve}), which aborts the session unless it already
 * started the container (atomically with its restore) and says which. Started: the source task is
 * stopped, as for a committed marker. Aborted or unknown there: thawed. A task found running was never
 * frozen (the restore is only sent while it is paused): its marker is dropped and the target told to
 * abort. A frozen task whose target cannot be reached stays frozen while the target is asked again, for
 * at most {@code resolveWait}; then it is thawed (the service must not be lost for good to a partition),
 * with a warning that both may run. An unreadable marker names no session to ask about and is thawed.
 */
final class FreezeJournal {
    private static final Logger LOG = LoggerFactory.getLogger(FreezeJournal.class);
    private static final String MAGIC = "layerswarm-handoff-freeze 1";
    /** containerd's container ids, and so safe as file names. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,159}");
    private static final String SUFFIX = ".frozen";

    /** Where a handoff's freeze stands. */
    enum State {
        /** Frozen (or about to be) and not committed: a recovery thaws it. */
        FROZEN,
        /** The target runs the container: a recovery stops the source task. */
        COMMITTED
    }

    /**
     * One marker.
     *
     * @param container the frozen container
     * @param state where its handoff stands
     * @param session the handoff session
     * @param target the target's peer id (base58), for the logs
     */
    record Mark(String container, State state, String session, String target) {
    }

    /** Asks a handoff's target how a session ended, aborting it there unless it started. */
    @FunctionalInterface
    interface Resolver {
        /**
         * @param target the target's peer id (base58)
         * @throws IOException if the target cannot be reached or does not answer
         */
        HandoffTarget.Outcome resolve(String target, String session) throws IOException;
    }

    private final Path dir;
    private final ContainerRuntime runtime;
    private final Resolver resolver;
    private final Duration resolveWait;
    private final Duration retryPeriod;
    private final List<Thread> waiting = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A journal whose recovery has no target to ask (every session counts as unknown there: thawed). */
    FreezeJournal(Path dir, ContainerRuntime runtime) {
        this(dir, runtime, (t, s) -> HandoffTarget.Outcome.UNKNOWN, Duration.ZERO, Duration.ofSeconds(1));
    }

    /**
     * @param resolver asks a target how a session ended
     * @param resolveWait how long a frozen task waits for an unreachable target before it is thawed anyway
     * @param retryPeriod pause between asks of an unreachable target
     */
    FreezeJournal(Path dir, ContainerRuntime runtime, Resolver resolver, Duration resolveWait, Duration retryPeriod) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.resolveWait = Objects.requireNonNull(resolveWait, "resolveWait");
        this.retryPeriod = Objects.requireNonNull(retryPeriod, "retryPeriod");
    }

    /**
     * Records durably that the container's task may be frozen from now on (before the first pause; a
     * recovery leaves a marked task that still runs alone).
     */
    void mark(String container, String session, String target) throws IOException {
        write(new Mark(container, State.FROZEN, session, target));
    }

    /** Records that the target runs the container (before the source task is stopped). */
    void committed(String container, String session, String target) throws IOException {
        write(new Mark(container, State.COMMITTED, session, target));
    }

    /** Forgets the container's marker (its task was stopped, or runs again). */
    void clear(String container) throws IOException {
        Files.deleteIfExists(file(container));
        syncDir();
    }

    /**
     * Makes a task that may have been frozen run again: thawed if paused, started afresh on its files if
     * it has no usable task (as without a freezer), left alone if it runs. The marker is removed once it
     * runs.
     */
    void thaw(String container) throws IOException {
        ContainerRuntime.TaskState state = runtime.taskState(container);
        if (state == ContainerRuntime.TaskState.PAUSED) {
            try {
                runtime.resume(container);
            } catch (IOException | RuntimeException e) {
                LOG.warn("event=handoff.resumeFailed container={} error=\"{}\"", container, e.getMessage());
                restart(container);
            }
        } else if (state != ContainerRuntime.TaskState.RUNNING) {
            restart(container);
        }
        clear(container);
    }

    private void restart(String container) throws IOException {
        if (runtime.taskState(container) != ContainerRuntime.TaskState.NONE) {
            runtime.stop(container);
        }
        runtime.start(container); // the process afresh on its files
    }

    /** Stops the source task of a committed handoff and removes the marker. */
    void stopCommitted(String container) throws IOException {
        if (runtime.taskState(container) != ContainerRuntime.TaskState.NONE) {
            runtime.stop(container);
        }
        clear(container);
    }

    /**
     * Finishes every handoff a crash interrupted (node start): frozen ones are thawed, committed ones
     * stopped. A marker that cannot be read counts as frozen (nothing proves the target took over). A
     * container that cannot be handled now keeps its marker for the next start.
     *
     * @return the markers found, as acted upon
     */
    List<Mark> recover() throws IOException {
        List<Mark> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            ds.forEach(files::add);
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            String container = name.substring(0, name.length() - SUFFIX.length());
            Mark m;
            try {
                m = parse(Files.readString(f, StandardCharsets.UTF_8), container);
            } catch (IOException e) {
                LOG.warn("event=handoff.freezeMarkUnreadable file={} error=\"{}\"", f, e.getMessage());
                m = new Mark(container, State.FROZEN, "", "");
            }
            try {
                String action = m.state() == State.COMMITTED ? stopAndSay(container) : settle(m);
                LOG.info("event=handoff.recovered container={} state={} session={} target={} action={}", container,
                        m.state(), m.session(), m.target(), action);
                out.add(m);
            } catch (IOException | RuntimeException e) {
                LOG.error("event=handoff.recoveryFailed container={} state={} error=\"{}\"", container, m.state(),
                        e.getMessage());
            }
        }
        return out;
    }

    private String stopAndSay(String container) throws IOException {
        stopCommitted(container);
        return "stopped";
    }

    /** A marker that says frozen: what the task's state and the target's answer call for. */
    private String settle(Mark m) throws IOException {
        String container = m.container();
        if (m.session().isEmpty() || m.target().isEmpty()) {
            thaw(container); // nothing names the session: nobody to ask
            return "thawed";
        }
        if (runtime.taskState(container) == ContainerRuntime.TaskState.RUNNING) {
            // never frozen (or thawed already): the target was never sent the restore; drop its session
            try {
                resolver.resolve(m.target(), m.session());
            } catch (IOException | RuntimeException e) {
                LOG.info("event=handoff.resolveFailed container={} target={} error=\"{}\"", container, m.target(),
                        e.getMessage());
            }
            clear(container);
            return "cleared";
        }
        HandoffTarget.Outcome o;
        try {
            o = resolver.resolve(m.target(), m.session());
        } catch (IOException | RuntimeException e) {
            LOG.warn("event=handoff.resolveFailed container={} target={} error=\"{}\" waitSeconds={}", container,
                    m.target(), e.getMessage(), resolveWait.toSeconds());
            if (resolveWait.isZero()) {
                thawUnresolved(m);
                return "thawed-unresolved";
            }
            waitForTarget(m);
            return "waiting";
        }
        return act(m, o);
    }

    private String act(Mark m, HandoffTarget.Outcome o) throws IOException {
        if (o == HandoffTarget.Outcome.STARTED) {
            stopCommitted(m.container()); // the target runs it: this copy must not run too
            return "stopped";
        }
        thaw(m.container());
        return "thawed";
    }

    private void thawUnresolved(Mark m) throws IOException {
        LOG.warn("event=handoff.thawedUnresolved container={} session={} target={} note=\"the target could not say "
                + "whether it started the container: both may run\"", m.container(), m.session(), m.target());
        thaw(m.container());
    }

    /** Asks an unreachable target again in the background until it answers or resolveWait is over. */
    private void waitForTarget(Mark m) {
        Thread t = new Thread(() -> {
            long end = System.nanoTime() + resolveWait.toNanos();
            try {
                while (true) {
                    Thread.sleep(retryPeriod.toMillis()); // pacing retries to a peer that is away, not synchronisation
                    try {
                        String action = act(m, resolver.resolve(m.target(), m.session()));
                        LOG.info("event=handoff.recovered container={} state={} session={} target={} action={}",
                                m.container(), m.state(), m.session(), m.target(), action);
                        return;
                    } catch (IOException | RuntimeException e) {
                        if (System.nanoTime() - end > 0) {
                            thawUnresolved(m);
                            return;
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // node stopping: the marker stays for the next start
            } catch (IOException | RuntimeException e) {
                LOG.error("event=handoff.recoveryFailed container={} error=\"{}\"", m.container(), e.getMessage());
            }
        }, "handoff-resolve-" + m.container());
        t.setDaemon(true);
        waiting.add(t);
        t.start();
    }

    /** Stops asking unreachable targets (node stopping); their markers stay for the next start. */
    void close() {
        waiting.forEach(Thread::interrupt);
    }

    private void write(Mark m) throws IOException {
        String text = MAGIC + "\nstate=" + m.state().name().toLowerCase(java.util.Locale.ROOT) + "\ncontainer="
                + m.container() + "\nsession=" + m.session() + "\ntarget=" + m.target() + "\n";
        SecretFiles.write(file(m.container()), text.getBytes(StandardCharsets.UTF_8), true);
        syncDir();
    }

    private Path file(String container) throws IOException {
        if (!ID.matcher(container).matches()) {
            throw new IOException("not a container id: '" + container + "'");
        }
        return dir.resolve(container + SUFFIX);
    }

    /** The rename or removal itself must survive a crash: fsync the directory. */
    private void syncDir() throws IOException {
        Files.createDirectories(dir);
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * Parses a marker file's text.
     *
     * @param container the container its file name names (must match the text's)
     * @throws IOException if it is not a complete marker of that container
     */
    static Mark parse(String text, String container) throws IOException {
        List<String> lines = text.lines().toList();
        if (lines.isEmpty() || !lines.get(0).equals(MAGIC)) {
            throw new IOException("not a freeze marker");
        }
        Map<String, String> kv = new LinkedHashMap<>();
        for (String l : lines.subList(1, lines.size())) {
            int i = l.indexOf('=');
            if (i <= 0 || kv.put(l.substring(0, i), l.substring(i + 1)) != null) {
                throw new IOException("bad freeze marker line '" + l + "'");
            }
        }
        if (!kv.keySet().equals(java.util.Set.of("state", "container", "session", "target"))) {
            throw new IOException("freeze marker fields " + kv.keySet());
        }
        if (!kv.get("container").equals(container)) {
            throw new IOException("freeze marker of " + kv.get("container") + " in the file of " + container);
        }
        State state = switch (kv.get("state")) {
            case "frozen" -> State.FROZEN;
            case "committed" -> State.COMMITTED;
            default -> throw new IOException("freeze marker state '" + kv.get("state") + "'");
        };
        return new Mark(container, state, kv.get("session"), kv.get("target"));
    }
}
