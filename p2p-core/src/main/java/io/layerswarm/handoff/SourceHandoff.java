package io.layerswarm.handoff;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.P2pStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side of handoffs: pre-sync on request, then writable-layer rounds while the container
 * runs, freeze (with a checkpoint where the {@link CheckpointSource} can make one), the final diff,
 * restore on the target, then the source task is stopped. Any failure rolls back: the target's session
 * is aborted and the source container keeps (or is thawed back to) a running task.
 */
final class SourceHandoff {
    private static final Logger LOG = LoggerFactory.getLogger(SourceHandoff.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * When rounds stop.
     *
     * @param maxRounds rounds while the container runs, at most (>= 1)
     * @param smallDiffBytes a running round with at most this much content ends the running rounds
     * @param roundInterval least time between the starts of running rounds (lets changes accumulate)
     */
    record Rounds(int maxRounds, long smallDiffBytes, Duration roundInterval) {
        Rounds {
            if (maxRounds < 1 || smallDiffBytes < 0 || roundInterval.isNegative()) {
                throw new IllegalArgumentException("maxRounds >= 1, smallDiffBytes >= 0, roundInterval >= 0");
            }
        }
    }

    private final PeerId self;
    private final HandoffClient client;
    private final ContainerRuntime runtime;
    private final CheckpointSource checkpoint;
    private final Rounds rounds;
    private final Path workDir;
    private final FreezeJournal freezes;
    /** The last pre-sync of a container to a target, reported with its handoff. */
    private final Map<String, HandoffReport.Stage> prepared = new ConcurrentHashMap<>();

    SourceHandoff(PeerId self, HandoffClient client, ContainerRuntime runtime, CheckpointSource checkpoint,
                  Rounds rounds, Path workDir, FreezeJournal freezes) {
        this.self = self;
        this.client = Objects.requireNonNull(client, "client");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.checkpoint = Objects.requireNonNull(checkpoint, "checkpoint");
        this.rounds = Objects.requireNonNull(rounds, "rounds");
        this.workDir = Objects.requireNonNull(workDir, "workDir");
        this.freezes = Objects.requireNonNull(freezes, "freezes");
    }

    HandoffReport.Stage prepare(String container, PeerId target) throws IOException {
        ContainerConfig config = runtime.inspect(container);
        long t0 = System.nanoTime();
        HandoffTarget.PrepareStats st = client.prepare(target, "prepare-" + container, config.image());
        HandoffReport.Stage stage = new HandoffReport.Stage("pre-sync", seconds(t0),
                st.peerBytes() + st.registryBytes());
        prepared.put(key(container, target), stage);
        LOG.info("event=handoff.preSynced container={} target={} seconds={} peerBytes={} registryBytes={}",
                container, target.toBase58(), stage.seconds(), st.peerBytes(), st.registryBytes());
        return stage;
    }

    HandoffReport run(String container, PeerId target) throws IOException {
        long start = System.nanoTime();
        if (!runtime.running(container)) {
            throw new IOException("container " + container + " has no running task");
        }
        ContainerConfig config = runtime.inspect(container);
        Path root = runtime.writableLayer(container).dir();
        String session = container + "-" + HexFormat.of().formatHex(RANDOM.generateSeed(6));
        List<HandoffReport.Stage> stages = new ArrayList<>();
        stages.add(prepared.getOrDefault(key(container, target), new HandoffReport.Stage("pre-sync", 0, 0)));
        // the freeze marker goes to disk now, before the rounds: its fsync stays out of the downtime
        freezes.mark(container, session, target.toBase58());
        boolean frozen = false;
        try {
            client.begin(target, session, config);
            Set<String> have = client.have(target, session);
            Manifest sent = Manifest.empty();
            Set<String> hot = new HashSet<>();
            // digests of files untouched since well before the previous scan are not read again
            TreeScanner.Stamps stamps = TreeScanner.Stamps.none();
            long round = 0;
            for (int i = 0; i < rounds.maxRounds(); i++) {
                awaitInterval(i);
                long t0 = System.nanoTime();
                TreeScanner.Scan scan = TreeScanner.scan(root, stamps);
                stamps = scan.stamps();
                Manifest now = holdBack(scan.manifest(), sent, hot);
                RoundPlan plan = RoundPlanner.plan(++round, sent, now, have);
                RoundStats st;
                try {
                    st = client.sendRound(target, session, plan, root);
                } catch (SourceChangedException e) {
                    // written while we read it: such files wait for the final diff, the rest goes next round
                    hot.add(e.path());
                    stages.add(new HandoffReport.Stage("round-" + round + "-aborted", seconds(t0), e.wireBytes()));
                    LOG.info("event=handoff.roundRetried round={} hot={} reason=\"{}\"", round, e.path(),
                            e.getMessage());
                    continue;
                }
                sent = sent.apply(plan);
                have.addAll(now.digests());
                stages.add(new HandoffReport.Stage("round-" + round, seconds(t0), st.wireBytes()));
                if (plan.inlineBytes() <= rounds.smallDiffBytes()) {
                    break;
                }
            }
            // the final round's stream is opened while the task runs: dial and negotiation stay out of the downtime
            P2pStream finalStream = client.openStream(target);
            try {
                long down = System.nanoTime();
                if (checkpoint.checkpoint(container, Files.createDirectories(workDir.resolve(session)))) {
                    // the memory path: images would travel with the final diff; not reachable where criu check fails
                    throw new IOException("checkpoint source " + checkpoint.name() + " is not wired into the transfer");
                }
                // frozen, not killed: the files are final from here, and a rollback thaws the same processes.
                // Marked before the rounds (durably: a crash from here on is undone at the next node start) and
                // counted as frozen before it returns: a pause that fails half-way is checked on rollback.
                frozen = true;
                runtime.pause(container);
                stages.add(new HandoffReport.Stage("freeze", seconds(down), 0));
                long t0 = System.nanoTime();
                Manifest last = TreeScanner.scan(root, stamps).manifest();
                stages.add(new HandoffReport.Stage("final-scan", seconds(t0), 0));
                // the target restores as soon as the final diff committed, on the same stream
                HandoffClient.FinalResult fin = client.sendFinalRound(finalStream, session,
                        RoundPlanner.plan(++round, sent, last, have), root);
                stages.add(new HandoffReport.Stage("final-transfer", (fin.committedAtNanos() - t0) / 1e9,
                        fin.round().wireBytes()));
                stages.add(new HandoffReport.Stage("restore", seconds(fin.committedAtNanos()), 0));
                stages.add(new HandoffReport.Stage("restore-install", fin.restore().installSeconds(), 0));
                stages.add(new HandoffReport.Stage("restore-start", fin.restore().startSeconds(), 0));
                // downtime spans the freeze, the final transfer and the restore; its bytes are counted there
                stages.add(new HandoffReport.Stage("downtime", seconds(down), 0));
            } finally {
                finalStream.close();
            }
        } catch (Throwable e) {
            // any failure, errors included: a frozen task left behind would serve nobody
            rollBack(container, target, session, frozen, e);
            throw e;
        } finally {
            io.layerswarm.cache.layer.RootGuard.deleteTree(workDir.resolve(session));
        }
        try {
            freezes.committed(container, session, target.toBase58());
        } catch (IOException | RuntimeException e) {
            // the target runs it: a stale "frozen" mark must not thaw this copy at the next start
            LOG.error("event=handoff.commitMarkFailed container={} error=\"{}\"", container, e.getMessage());
            clearMark(container);
        }
        stopSource(container);
        stages.add(new HandoffReport.Stage("total", seconds(start), 0));
        HandoffReport report = new HandoffReport(container, self.toBase58(), target.toBase58(), stages);
        LOG.info("event=handoff.done container={} target={} report={}", container, target.toBase58(), report.toJson());
        return report;
    }

    /**
     * {@code now} with files that changed while being sent in an earlier round kept as last sent (or
     * left out if never sent), with any hard link to such a file: a file written all the time would
     * otherwise spoil every running round. The final diff, after the stop, sends them.
     */
    static Manifest holdBack(Manifest now, Manifest sent, Set<String> hot) {
        if (hot.isEmpty()) {
            return now;
        }
        TreeMap<String, TreeEntry> out = new TreeMap<>(now.entries());
        for (TreeEntry e : now.entries().values()) {
            boolean held = hot.contains(e.path()) || (e.type() == EntryType.HARDLINK && hot.contains(e.linkTarget()));
            if (!held) {
                continue;
            }
            TreeEntry before = sent.entries().get(e.path());
            if (before != null && before.type() == e.type()) {
                out.put(e.path(), before);
            } else {
                out.remove(e.path());
            }
        }
        return new Manifest(out);
    }

    private void awaitInterval(int i) throws IOException {
        if (i == 0 || rounds.roundInterval().isZero()) {
            return;
        }
        try {
            Thread.sleep(rounds.roundInterval().toMillis()); // pacing, not synchronisation: changes accumulate
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("handoff interrupted");
        }
    }

    private void rollBack(String container, PeerId target, String session, boolean frozen, Throwable cause) {
        LOG.warn("event=handoff.rollback container={} target={} frozen={} error=\"{}\"", container,
                target.toBase58(), frozen, cause.getMessage());
        try {
            client.abort(target, session);
        } catch (IOException | RuntimeException e) {
            LOG.warn("event=handoff.abortFailed target={} error=\"{}\"", target.toBase58(), e.getMessage());
        }
        if (!frozen) {
            clearMark(container); // never paused: nothing to thaw
        } else {
            try {
                freezes.thaw(container);
            } catch (IOException | RuntimeException e) {
                // the mark stays: the next node start tries again
                cause.addSuppressed(e);
                LOG.error("event=handoff.restartFailed container={} error=\"{}\"", container, e.getMessage());
            }
        }
    }

    private void clearMark(String container) {
        try {
            freezes.clear(container);
        } catch (IOException | RuntimeException e) {
            LOG.error("event=handoff.markClearFailed container={} error=\"{}\"", container, e.getMessage());
        }
    }

    /** Ends the frozen source task once the target runs the container (outside the downtime). */
    private void stopSource(String container) {
        try {
            freezes.stopCommitted(container);
        } catch (IOException | RuntimeException e) {
            // it stays frozen (serving nothing, writing nothing, holding its memory); the committed mark
            // has the next node start stop it
            LOG.error("event=handoff.sourceStopFailed container={} error=\"{}\"", container, e.getMessage());
        }
    }

    private static String key(String container, PeerId target) {
        return container + "@" + target.toBase58();
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
