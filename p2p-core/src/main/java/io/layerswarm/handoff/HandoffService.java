package io.layerswarm.handoff;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.node.NodeContext;
import io.layerswarm.node.NodeService;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * Service handoff as a {@link NodeService}: the node serves {@value HandoffServer#PROTOCOL} as a
 * target (for swarm peers, optionally only those on an allow-list) and offers {@link #prepare} and
 * {@link #run} as a source. Containers are found and created through a {@link ContainerRuntime};
 * process state comes from a {@link CheckpointSource} ({@link CheckpointSource#none()} where CRIU
 * does not work: then the file system moves and the process starts afresh on the target, memory is
 * not moved).
 *
 * <p>A source freezes the container's task for the downtime and records that durably first (a file
 * under {@code workDir/frozen}); {@link #start} finishes what a crash of the node left: the source task
 * of a handoff that committed is stopped; for one that did not, the target is asked ({@code resolve})
 * whether it started the container: if so the source task is stopped, else thawed. As a target, the
 * node removes the containers of sessions its own crash left open and of sessions idle too long.
 *
 * <pre>{@code
 * HandoffService h = new HandoffService(HandoffService.Config.defaults(runtime, dir));
 * Node node = Node.builder()...service(h).start();
 * h.prepare("web", target);                    // target pre-syncs the image from the swarm
 * HandoffReport r = h.run("web", target);      // rounds, stop, final diff, target starts it
 * }</pre>
 */
public final class HandoffService implements NodeService {
    /**
     * Settings.
     *
     * @param runtime this node's container engine
     * @param checkpoint where process state comes from
     * @param workDir where received trees and checkpoints are staged
     * @param allowList peers that may hand off to this node; empty: every authenticated swarm peer
     * @param maxRounds rounds while the container runs, at most
     * @param smallDiffBytes a running round with at most this much content is the last one before the stop
     * @param roundInterval least time between running rounds
     * @param limits what one received round may announce
     * @param openTimeout dial and protocol negotiation
     * @param sessionIdle as a target: a session with no request for this long is aborted and its container
     *     removed (its source died or gave up without telling)
     * @param resolveWait as a source recovering from a crash inside the downtime: how long a frozen task
     *     waits for a target that cannot be reached to say whether it started the container, before it is
     *     thawed anyway
     */
    public record Config(ContainerRuntime runtime, CheckpointSource checkpoint, Path workDir, Set<PeerId> allowList,
                         int maxRounds, long smallDiffBytes, Duration roundInterval, RoundReceiver.Limits limits,
                         Duration openTimeout, Duration sessionIdle, Duration resolveWait) {
        /** Validates and copies. */
        public Config {
            Objects.requireNonNull(runtime, "runtime");
            Objects.requireNonNull(checkpoint, "checkpoint");
            Objects.requireNonNull(workDir, "workDir");
            allowList = Set.copyOf(allowList);
            if (sessionIdle.isNegative() || sessionIdle.isZero() || resolveWait.isNegative()) {
                throw new IllegalArgumentException("sessionIdle > 0, resolveWait >= 0");
            }
            new SourceHandoff.Rounds(maxRounds, smallDiffBytes, roundInterval);
        }

        /**
         * No checkpoint, any swarm peer, up to 5 running rounds until one carries at most 64 KiB; idle
         * target sessions aborted after 10 minutes; an unreachable target waited for 2 minutes.
         */
        public static Config defaults(ContainerRuntime runtime, Path workDir) {
            return new Config(runtime, CheckpointSource.none(), workDir, Set.of(), 5, 64 * 1024, Duration.ZERO,
                    RoundReceiver.Limits.defaults(), Duration.ofSeconds(20), Duration.ofMinutes(10),
                    Duration.ofMinutes(2));
        }

        /** A copy with other recovery settings. */
        public Config withRecovery(Duration sessionIdle, Duration resolveWait) {
            return new Config(runtime, checkpoint, workDir, allowList, maxRounds, smallDiffBytes, roundInterval, limits,
                    openTimeout, sessionIdle, resolveWait);
        }

        /** A copy with another allow-list. */
        public Config withAllowList(Set<PeerId> peers) {
            return new Config(runtime, checkpoint, workDir, peers, maxRounds, smallDiffBytes, roundInterval, limits,
                    openTimeout, sessionIdle, resolveWait);
        }

        /** A copy with other round settings. */
        public Config withRounds(int max, long smallDiff, Duration interval) {
            return new Config(runtime, checkpoint, workDir, allowList, max, smallDiff, interval, limits, openTimeout,
                    sessionIdle, resolveWait);
        }
    }

    private final Config config;
    private volatile SourceHandoff source;
    private volatile TargetSessions target;
    private volatile FreezeJournal freezes;

    /** @param config settings */
    public HandoffService(Config config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    @Override
    public void start(NodeContext context) throws IOException {
        HandoffClient client = new HandoffClient(context.host(), config.openTimeout(), new RoundWriter());
        // recovery asks with a shorter dial timeout: an unreachable target is asked again in the background
        HandoffClient asker = new HandoffClient(context.host(), Duration.ofSeconds(5), new RoundWriter());
        FreezeJournal freezes = new FreezeJournal(config.workDir().resolve("frozen"), config.runtime(),
                (peer, session) -> resolveWithin(asker, PeerId.parse(peer), session, Duration.ofSeconds(15)),
                config.resolveWait(), Duration.ofSeconds(2));
        this.freezes = freezes;
        // before serving: a container frozen by a crashed handoff runs again (or, if its target started it,
        // is stopped) as soon as the node is back
        freezes.recover();
        TargetSessions t = new TargetSessions(context.node(), config.runtime(), config.workDir().resolve("in"),
                config.limits(), config.sessionIdle());
        // sessions this node's crash left open as a target: their created containers are removed
        t.init();
        new HandoffServer(p -> config.allowList().isEmpty() || config.allowList().contains(p), t)
                .attach(context.host());
        source = new SourceHandoff(context.node().peerId(), client, config.runtime(), config.checkpoint(),
                new SourceHandoff.Rounds(config.maxRounds(), config.smallDiffBytes(), config.roundInterval()),
                config.workDir().resolve("out"), freezes);
        target = t;
    }

    /**
     * One resolve with a deadline: a target whose restore hangs (e.g. its containerd is stuck) holds the
     * answer back, and the node's start must not wait on it for good; such a target counts as unreachable
     * (the frozen task then waits in the background). The asking thread is left to its stream.
     */
    private static HandoffTarget.Outcome resolveWithin(HandoffClient client, PeerId target, String session,
                                                       Duration limit) throws java.io.IOException {
        java.util.concurrent.CompletableFuture<HandoffTarget.Outcome> f = new java.util.concurrent.CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(client.resolve(target, session));
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, "handoff-resolve");
        t.setDaemon(true);
        t.start();
        try {
            return f.get(limit.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new java.io.IOException("no resolve answer from " + target.toBase58() + " within " + limit);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof java.io.IOException io ? io
                    : new java.io.IOException(String.valueOf(e.getCause()), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted resolving " + session);
        }
    }

    /**
     * Has {@code target} fetch the container's image (by digest) from the swarm, while the container
     * keeps running here.
     *
     * @return the pre-sync stage (time, image bytes the target fetched)
     */
    public HandoffReport.Stage prepare(String container, PeerId target) throws IOException {
        return running().prepare(container, target);
    }

    /**
     * Moves {@code container} to {@code target}: rounds while it runs, stop, final diff, target starts
     * it. On failure the target's half is removed and the container runs here again.
     *
     * @return the report of every stage
     */
    public HandoffReport run(String container, PeerId target) throws IOException {
        return running().run(container, target);
    }

    private SourceHandoff running() {
        SourceHandoff s = source;
        if (s == null) {
            throw new IllegalStateException("handoff service not started");
        }
        return s;
    }

    @Override
    public void close() {
        FreezeJournal f = freezes;
        if (f != null) {
            f.close();
        }
        TargetSessions t = target;
        if (t != null) {
            t.closeAll();
        }
    }
}
