package io.layerswarm.handoff;

import io.layerswarm.libp2p.crypto.SecretFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * that says "frozen": recovery then thaws the source although the target runs too. The record cannot
 * close that window (the target's start and this file are not one atomic step); thawing is the choice
 * that never loses the service.
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

    private final Path dir;
    private final ContainerRuntime runtime;

    FreezeJournal(Path dir, ContainerRuntime runtime) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
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
                if (m.state() == State.COMMITTED) {
                    stopCommitted(container);
                } else {
                    thaw(container);
                }
                LOG.info("event=handoff.recovered container={} state={} session={} target={} action={}", container,
                        m.state(), m.session(), m.target(), m.state() == State.COMMITTED ? "stopped" : "thawed");
                out.add(m);
            } catch (IOException | RuntimeException e) {
                LOG.error("event=handoff.recoveryFailed container={} state={} error=\"{}\"", container, m.state(),
                        e.getMessage());
            }
        }
        return out;
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
