package io.layerswarm.handoff;

import io.layerswarm.cache.layer.RootGuard;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.node.Node;
import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.NodeListener;
import io.layerswarm.node.PulledImage;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Platform;
import java.io.IOException;
import io.layerswarm.libp2p.crypto.SecretFiles;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target side of handoffs on a node: pre-syncs images through the node (from swarm peers) into
 * its container engine, keeps one {@link RoundReceiver} per session (with the new container's image
 * files as content it already holds) and, on restore, fills the container's writable layer and starts it.
 *
 * <p>Each session has a small record file ({@code workDir/SESSION.session}: state, container, source),
 * written durably at {@code begin} before the container is created and rewritten as {@code started} or
 * {@code aborted} when it ends. It lets the target answer a recovering source's {@link #resolve} and
 * clean up after itself: {@link #init} (node start) removes the created container of every session a
 * crash left open unless its task exists (then it was started: containerd is the proof, the record only
 * says which container to look at), and a sweep aborts sessions with no request for {@code idleLimit}
 * (a source that died and never came back).
 */
final class TargetSessions implements HandoffTarget {
    private static final Logger LOG = LoggerFactory.getLogger(TargetSessions.class);
    private static final String MAGIC = "layerswarm-handoff-session 1";
    private static final String SUFFIX = ".session";
    private static final Pattern SESSION = Pattern.compile("[A-Za-z0-9_.-]{1,160}");
    /** Ended sessions' records are kept this long (a recovering source asks within minutes). */
    private static final Duration KEEP_ENDED = Duration.ofDays(1);

    private final Node node;
    private final ContainerRuntime runtime;
    private final Path workDir;
    private final RoundReceiver.Limits limits;
    private final Duration idleLimit;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private ScheduledExecutorService sweeper;

    /** An open session; {@code closed} (under its monitor) once restored or aborted: the two exclude each other. */
    private static final class Session {
        final PeerId source;
        final ContainerConfig config;
        final RoundReceiver receiver;
        final WritableLayer layer;
        final Path dir;
        volatile long lastUsed = System.nanoTime();
        boolean closed;

        Session(PeerId source, ContainerConfig config, RoundReceiver receiver, WritableLayer layer, Path dir) {
            this.source = source;
            this.config = config;
            this.receiver = receiver;
            this.layer = layer;
            this.dir = dir;
        }
    }

    /**
     * One session record.
     *
     * @param state open, started or aborted
     * @param container the container begin created
     * @param source the source peer (base58)
     */
    record Record(String state, String container, String source) {
    }

    /**
     * @param node the node pre-syncs go through (null: {@link #prepare} is refused, for tests)
     * @param idleLimit an open session with no request for this long is aborted
     */
    TargetSessions(Node node, ContainerRuntime runtime, Path workDir, RoundReceiver.Limits limits, Duration idleLimit) {
        this.node = node;
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.workDir = Objects.requireNonNull(workDir, "workDir");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.idleLimit = Objects.requireNonNull(idleLimit, "idleLimit");
        if (idleLimit.isNegative() || idleLimit.isZero()) {
            throw new IllegalArgumentException("idleLimit must be positive");
        }
    }

    @Override
    public Optional<RoundReceiver> receiver(PeerId peer, String session) {
        Session s = sessions.get(session);
        if (s == null || !s.source.equals(peer)) {
            return Optional.empty();
        }
        s.lastUsed = System.nanoTime();
        return Optional.of(s.receiver);
    }

    @Override
    public PrepareStats prepare(PeerId peer, ImageRef image) throws IOException {
        if (node == null) {
            throw new IOException("this target has no node to pre-sync through");
        }
        AtomicLong fromPeers = new AtomicLong();
        AtomicLong fromRegistry = new AtomicLong();
        Set<String> wanted = ConcurrentHashMap.newKeySet();
        NodeListener count = new NodeListener() {
            @Override
            public void blobFetched(NodeEvent.BlobFetched e) {
                if (wanted.isEmpty() || wanted.contains(e.blob().toString())) {
                    fromPeers.addAndGet(e.peerBytes());
                    fromRegistry.addAndGet(e.registryBytes());
                }
            }
        };
        node.addListener(count);
        try {
            PulledImage pulled = node.pull(image.namespace(), image.repository(), image.digest(), Platform.linuxAmd64());
            wanted.addAll(pulled.blobs().stream().map(Descriptor::digest).map(Object::toString)
                    .collect(Collectors.toSet()));
            // containerd unpacks from this node's mirror, which now serves every blob from the store
            runtime.pull(image);
        } finally {
            node.removeListener(count);
        }
        LOG.info("event=handoff.prepared source={} image={} peerBytes={} registryBytes={}", peer.toBase58(),
                image.reference(), fromPeers.get(), fromRegistry.get());
        return new PrepareStats(fromPeers.get(), fromRegistry.get());
    }

    @Override
    public void begin(PeerId peer, String session, ContainerConfig config) throws IOException {
        if (!SESSION.matcher(session).matches()) {
            throw new IllegalArgumentException("not a session id: '" + session + "'");
        }
        if (sessions.containsKey(session) || Files.exists(record(session))) {
            throw new IOException("session " + session + " exists");
        }
        runtime.pull(config.image()); // fast after prepare; without it the layers come from peers now
        // durably before the container exists: a crash from here on leaves a record naming what to clean up
        writeRecord(session, new Record("open", config.id(), peer.toBase58()), true);
        Path dir = workDir.resolve(session);
        try {
            runtime.create(config);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(record(session));
            throw e;
        }
        try {
            WritableLayer layer = runtime.writableLayer(config.id());
            RoundReceiver r = RoundReceiver.open(dir, ImageFiles.index(layer.imageDirs()), limits);
            if (sessions.putIfAbsent(session, new Session(peer, config, r, layer, dir)) != null) {
                throw new IOException("session " + session + " exists");
            }
        } catch (IOException | RuntimeException e) {
            discard(session, config.id(), dir);
            throw e;
        }
        LOG.info("event=handoff.begun source={} session={} container={}", peer.toBase58(), session, config.id());
    }

    /** Applies the committed round to the (not yet started) container, so the restore has only the rest. */
    @Override
    public void committed(PeerId peer, String session) throws IOException {
        Session s = owned(peer, session);
        s.lastUsed = System.nanoTime();
        s.receiver.installInto(s.layer.dir());
    }

    @Override
    public RestoreStats restore(PeerId peer, String session) throws IOException {
        Session s = owned(peer, session);
        double install;
        double start;
        synchronized (s) {
            if (s.closed) {
                throw new IOException("handoff session " + session + " was aborted");
            }
            // closed, but listed until its record says started: a resolve meanwhile waits on this monitor
            s.closed = true;
            try {
                long t0 = System.nanoTime();
                s.receiver.installInto(s.layer.dir());
                long t1 = System.nanoTime();
                runtime.start(s.config.id());
                install = (t1 - t0) / 1e9;
                start = (System.nanoTime() - t1) / 1e9;
            } catch (IOException | RuntimeException e) {
                // nothing half-applied is left to start: the source rolls back
                sessions.remove(session);
                discard(session, s.config.id(), s.dir);
                throw e;
            }
            // not fsynced (this is the downtime): after a crash, init finds the open record and the task
            try {
                writeRecord(session, new Record("started", s.config.id(), peer.toBase58()), false);
            } catch (IOException e) {
                LOG.warn("event=handoff.recordFailed session={} error=\"{}\"", session, e.getMessage());
            }
            sessions.remove(session);
        }
        RootGuard.deleteTree(s.dir);
        LOG.info("event=handoff.restored source={} session={} container={} installSeconds={} startSeconds={}",
                peer.toBase58(), session, s.config.id(), install, start);
        return new RestoreStats(install, start);
    }

    @Override
    public void abort(PeerId peer, String session) throws IOException {
        Session s = owned(peer, session);
        if (close(session, s)) {
            LOG.info("event=handoff.aborted source={} session={}", peer.toBase58(), session);
        }
    }

    /**
     * Aborts the open session unless its restore ran; the answer comes from the session, or from its
     * record once it ended (also across a restart of this node).
     */
    @Override
    public Outcome resolve(PeerId peer, String session) throws IOException {
        if (!SESSION.matcher(session).matches()) {
            throw new IllegalArgumentException("not a session id: '" + session + "'");
        }
        Session s = sessions.get(session);
        if (s != null && s.source.equals(peer) && close(session, s)) {
            LOG.info("event=handoff.aborted source={} session={} by=resolve", peer.toBase58(), session);
        }
        Record r = readRecord(session);
        if (r == null) {
            return Outcome.UNKNOWN;
        }
        if (!r.source().equals(peer.toBase58())) {
            throw new IOException("handoff session " + session + " is not " + peer.toBase58() + "'s");
        }
        return switch (r.state()) {
            case "started" -> Outcome.STARTED;
            case "aborted" -> Outcome.ABORTED;
            // ended without its record saying how (the container could not be removed, or the record
            // not rewritten): containerd's task is the answer
            default -> runtime.taskState(r.container()) == ContainerRuntime.TaskState.NONE ? Outcome.ABORTED
                    : Outcome.STARTED;
        };
    }

    /** Closes an open session without starting it; false if it was closed already (restored or aborted). */
    private boolean close(String session, Session s) {
        synchronized (s) {
            if (s.closed) {
                return false;
            }
            s.closed = true;
            sessions.remove(session);
            discard(session, s.config.id(), s.dir);
            return true;
        }
    }

    private Session owned(PeerId peer, String session) throws IOException {
        Session s = sessions.get(session);
        if (s == null || !s.source.equals(peer)) {
            throw new IOException("no handoff session " + session + " of " + peer.toBase58());
        }
        return s;
    }

    /** Removes the session's container and staging tree; its record then says aborted. */
    private void discard(String session, String container, Path dir) {
        boolean removed = true;
        try {
            runtime.remove(container);
        } catch (IOException e) {
            removed = false;
            LOG.warn("event=handoff.discardFailed container={} error=\"{}\"", container, e.getMessage());
        }
        try {
            RootGuard.deleteTree(dir);
        } catch (IOException e) {
            LOG.warn("event=handoff.discardFailed dir={} error=\"{}\"", dir, e.getMessage());
        }
        try {
            Record r = readRecord(session);
            if (removed && r != null) {
                // a container that could not be removed keeps its "open" record: the next node start tries again
                writeRecord(session, new Record("aborted", r.container(), r.source()), false);
            }
        } catch (IOException e) {
            LOG.warn("event=handoff.recordFailed session={} error=\"{}\"", session, e.getMessage());
        }
    }

    /** Removes every open session's container (the node is stopping) and stops the idle sweep. */
    void closeAll() {
        ScheduledExecutorService sw = sweeper;
        if (sw != null) {
            sw.shutdownNow();
        }
        for (Map.Entry<String, Session> e : sessions.entrySet()) {
            close(e.getKey(), e.getValue());
        }
    }

    /**
     * Makes the work directory, finishes the sessions a crash of this node left open and starts the
     * idle sweep.
     *
     * @return the sessions found open, with what was done ("started": its task exists; "aborted": its
     *     container was removed)
     */
    Map<String, String> init() throws IOException {
        Files.createDirectories(workDir);
        Map<String, String> done = new java.util.TreeMap<>();
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(workDir, "*" + SUFFIX)) {
            ds.forEach(files::add);
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            String session = name.substring(0, name.length() - SUFFIX.length());
            Record r;
            try {
                r = parseRecord(Files.readString(f, StandardCharsets.UTF_8));
            } catch (IOException e) {
                LOG.warn("event=handoff.sessionRecordUnreadable file={} error=\"{}\"", f, e.getMessage());
                continue;
            }
            if (!r.state().equals("open")) {
                if (Files.getLastModifiedTime(f).toInstant().isBefore(java.time.Instant.now().minus(KEEP_ENDED))) {
                    Files.deleteIfExists(f);
                }
                continue;
            }
            try {
                if (runtime.taskState(r.container()) != ContainerRuntime.TaskState.NONE) {
                    // restore started it and the node died before the record said so
                    writeRecord(session, new Record("started", r.container(), r.source()), true);
                    RootGuard.deleteTree(workDir.resolve(session));
                    done.put(session, "started");
                } else {
                    try {
                        runtime.remove(r.container());
                    } catch (IOException e) {
                        // never created (crash between the record and create), or gone: nothing of it runs
                        LOG.info("event=handoff.staleRemoveFailed container={} error=\"{}\"", r.container(),
                                e.getMessage());
                    }
                    RootGuard.deleteTree(workDir.resolve(session));
                    writeRecord(session, new Record("aborted", r.container(), r.source()), true);
                    done.put(session, "aborted");
                }
                LOG.info("event=handoff.staleSession session={} container={} action={}", session, r.container(),
                        done.get(session));
            } catch (IOException | RuntimeException e) {
                LOG.error("event=handoff.staleSessionFailed session={} error=\"{}\"", session, e.getMessage());
            }
        }
        ScheduledExecutorService sw = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "handoff-idle-sweep");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(50, Math.min(60_000, idleLimit.toMillis() / 4));
        sw.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
        sweeper = sw;
        return done;
    }

    /** Aborts sessions with no request for the idle limit (their source died or gave up without abort). */
    void sweep() {
        long now = System.nanoTime();
        for (Map.Entry<String, Session> e : sessions.entrySet()) {
            Session s = e.getValue();
            if (s.receiver.receiving()) {
                s.lastUsed = now; // a long round is activity
                continue;
            }
            if (now - s.lastUsed > idleLimit.toNanos() && close(e.getKey(), s)) {
                LOG.warn("event=handoff.idleAborted source={} session={} container={} idleLimitSeconds={}",
                        s.source.toBase58(), e.getKey(), s.config.id(), idleLimit.toSeconds());
            }
        }
    }

    private Path record(String session) {
        return workDir.resolve(session + SUFFIX);
    }

    private Record readRecord(String session) throws IOException {
        Path f = record(session);
        if (!Files.exists(f)) {
            return null;
        }
        return parseRecord(Files.readString(f, StandardCharsets.UTF_8));
    }

    private void writeRecord(String session, Record r, boolean durable) throws IOException {
        byte[] text = (MAGIC + "\nstate=" + r.state() + "\ncontainer=" + r.container() + "\nsource=" + r.source()
                + "\n").getBytes(StandardCharsets.UTF_8);
        if (durable) {
            SecretFiles.write(record(session), text, true);
            try (FileChannel ch = FileChannel.open(workDir, StandardOpenOption.READ)) {
                ch.force(true);
            }
        } else {
            Path tmp = workDir.resolve(session + SUFFIX + ".tmp");
            Files.write(tmp, text);
            Files.move(tmp, record(session), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Parses a session record's text; anything but a complete record is refused. */
    static Record parseRecord(String text) throws IOException {
        List<String> lines = text.lines().toList();
        if (lines.size() != 4 || !lines.get(0).equals(MAGIC)) {
            throw new IOException("not a handoff session record");
        }
        String[] keys = {"state", "container", "source"};
        String[] v = new String[3];
        for (int i = 0; i < 3; i++) {
            String l = lines.get(i + 1);
            if (!l.startsWith(keys[i] + "=")) {
                throw new IOException("bad handoff session record line '" + l + "'");
            }
            v[i] = l.substring(keys[i].length() + 1);
        }
        if (!Set.of("open", "started", "aborted").contains(v[0]) || v[1].isEmpty() || v[2].isEmpty()) {
            throw new IOException("bad handoff session record " + java.util.Arrays.toString(v));
        }
        return new Record(v[0], v[1], v[2]);
    }
}
