package io.layerswarm.k8s.status;

import io.layerswarm.cache.LayerCache;
import io.layerswarm.cache.store.BlobInfo;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.node.NodeContext;
import io.layerswarm.node.LinkMeasurements;
import io.layerswarm.node.NodeService;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node side of the cluster view: every period, builds this node's {@link StatusRecord} (node name,
 * blobs held with their sizes from the content store, cache capacity and free/evictable bytes), signs
 * it with the host's key and pushes it ({@link NodeStatusProtocol}) to every connected peer that
 * announced the status protocol through identify. The record carries the links the node measured
 * ({@link io.layerswarm.node.Node#links()}, mapped by {@link PublishedLinks}): per upstream and per
 * peer, throughput from its transfers and RTT from pings; each period also starts a light probe of the
 * upstreams ({@link io.layerswarm.node.Node#probeUpstreams()}) whose round trips show in later records,
 * and at most every {@link BandwidthProbe#interval()} a bounded read of each link no transfer has
 * measured yet ({@link io.layerswarm.node.Node#probeThroughput}), so a node that has fetched nothing
 * still publishes measured links.
 */
public final class StatusPublisherService implements NodeService {
    private static final Logger LOG = LoggerFactory.getLogger(StatusPublisherService.class);
    /** Default publishing period. */
    public static final Duration DEFAULT_PERIOD = Duration.ofSeconds(10);
    /** A record lives this many periods, so one lost push does not make the node look silent. */
    private static final int TTL_PERIODS = 3;
    /** The swarm loop answers in microseconds; this only bounds a wedged loop. */
    private static final Duration LINKS_WAIT = Duration.ofSeconds(5);
    /** The first bandwidth probe round starts within this much of the first record (at random). */
    static final Duration FIRST_PROBE_SPREAD = Duration.ofMinutes(1);

    private final String nodeName;
    private final Duration period;
    private final Clock clock;
    private final BandwidthProbe probe;
    /** {@link System#nanoTime()} of the last bandwidth probe round (or the spread first one's due time minus the interval); guarded by {@link #lock}. */
    private long lastProbeNanos;
    private boolean probed;
    private boolean probing;
    private final StatusRecordCodec codec = new StatusRecordCodec();
    private final Object lock = new Object();
    private NodeContext context;
    private ScheduledFuture<?> task;
    private long lastVersion;

    /**
     * Without bandwidth probes: links show a rate only once a transfer measured them.
     *
     * @param nodeName the Kubernetes node name this node publishes under
     * @param period time between records; records expire after three periods
     * @param clock source of issue and expiry times (and of versions: see {@link #nextVersion})
     */
    public StatusPublisherService(String nodeName, Duration period, Clock clock) {
        this(nodeName, period, clock, BandwidthProbe.OFF);
    }

    /**
     * @param nodeName the Kubernetes node name this node publishes under
     * @param period time between records; records expire after three periods
     * @param clock source of issue and expiry times (and of versions: see {@link #nextVersion})
     * @param probe bandwidth probes of unmeasured links ({@link BandwidthProbe#OFF} for none)
     */
    public StatusPublisherService(String nodeName, Duration period, Clock clock, BandwidthProbe probe) {
        Objects.requireNonNull(nodeName, "nodeName");
        if (nodeName.isBlank()) {
            throw new IllegalArgumentException("empty node name");
        }
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("status period must be positive, got " + period);
        }
        this.nodeName = nodeName;
        this.period = period;
        this.clock = clock;
        this.probe = Objects.requireNonNull(probe, "probe");
    }

    /** Publishes under {@code nodeName} every {@link #DEFAULT_PERIOD}, with {@link BandwidthProbe#DEFAULT} probes. */
    public StatusPublisherService(String nodeName) {
        this(nodeName, DEFAULT_PERIOD, Clock.systemUTC(), BandwidthProbe.DEFAULT);
    }

    @Override
    public void start(NodeContext ctx) {
        synchronized (lock) {
            this.context = ctx;
            task = ctx.scheduler().scheduleWithFixedDelay(() -> ctx.executor().execute(this::publishOnce),
                    0, period.toMillis(), TimeUnit.MILLISECONDS);
        }
        // a scheduler that connects gets this node's record as soon as it is known to listen, not up to a
        // period later (a scheduler started after its nodes would otherwise see none of them for a period)
        ctx.identify().onIdentified((c, info) -> {
            if (info.protocols().contains(NodeStatusProtocol.PROTOCOL)) {
                ctx.executor().execute(() -> publish(c.remotePeer()));
            }
        });
        LOG.info("event=status_publisher_started node={} periodMs={}", nodeName, period.toMillis());
    }

    /** Builds, signs and pushes one record now; failures are logged, the next period tries again. */
    public void publishOnce() {
        publish(null);
    }

    /**
     * One record to {@code only} (a peer that just connected: no probes, those belong to the periodic
     * round), or with {@code null} a periodic round to every listener, starting this round's probes.
     */
    private void publish(PeerId only) {
        NodeContext ctx;
        synchronized (lock) {
            ctx = context;
        }
        if (ctx == null) {
            return;
        }
        try {
            Set<PeerId> targets = only != null ? Set.of(only) : listeners(ctx.host());
            if (targets.isEmpty()) {
                return;
            }
            if (only == null) {
                // fire and forget: a slow registry must not delay the record; the next one carries the probe
                var rtt = ctx.node().probeUpstreams();
                if (bandwidthProbeDue()) {
                    // after the round trips, one link at a time: concurrent reads would share the uplink and under-measure
                    rtt.exceptionally(e -> null).thenCompose(v -> ctx.node().probeThroughput(probe.bytes()))
                            .whenComplete(this::bandwidthProbeDone);
                }
            }
            push(ctx, targets);
        } catch (IOException | RuntimeException e) {
            LOG.warn("event=status_publish_failed node={} reason=\"{}\"", nodeName, e.toString());
        }
    }

    private void push(NodeContext ctx, Set<PeerId> targets) throws IOException {
        Host host = ctx.host();
        SignedStatusRecord signed = codec.sign(record(ctx), host.identity());
        byte[] wire = codec.encode(signed);
        for (PeerId p : targets) {
            NodeStatusProtocol.publish(host, p, wire, ctx.executor()).whenComplete((r, e) -> {
                if (e != null) {
                    LOG.debug("event=status_push_failed peer={} reason=\"{}\"", p, e.toString());
                } else if (r != SwarmClusterView.Result.ACCEPTED) {
                    LOG.info("event=status_push_refused peer={} result={}", p, r);
                }
            });
        }
    }

    /** Whether a bandwidth probe round should start now; if so, marks it started. */
    private boolean bandwidthProbeDue() {
        if (!probe.enabled()) {
            return false;
        }
        synchronized (lock) {
            long now = System.nanoTime();
            if (!probed) {
                // the first round waits a random part of a minute (or of the interval, if shorter), so a fleet
                // started together does not read from its shared uplink all at once
                probed = true;
                lastProbeNanos = now - probe.interval().toNanos() + (long) (Math.random() * firstProbeSpread().toNanos());
            }
            if (probing || now - lastProbeNanos < probe.interval().toNanos()) {
                return false;
            }
            probing = true;
            lastProbeNanos = now;
            return true;
        }
    }

    private Duration firstProbeSpread() {
        return probe.interval().compareTo(FIRST_PROBE_SPREAD) < 0 ? probe.interval() : FIRST_PROBE_SPREAD;
    }

    private void bandwidthProbeDone(Integer measured, Throwable failure) {
        synchronized (lock) {
            probing = false;
        }
        if (failure != null) {
            LOG.warn("event=link_probe_failed node={} reason=\"{}\"", nodeName, failure.toString());
        } else if (measured > 0) {
            LOG.info("event=link_probe node={} links_measured={} bytes_per_link={}", nodeName, measured, probe.bytes());
        }
    }

    /** Connected peers whose identify listed the status protocol (the scheduler's light peers). */
    private static Set<PeerId> listeners(Host host) {
        Set<PeerId> out = new LinkedHashSet<>();
        for (Connection c : host.connections()) {
            host.peerStore().get(c.remotePeer())
                    .filter(r -> r.protocols().contains(NodeStatusProtocol.PROTOCOL))
                    .ifPresent(r -> out.add(c.remotePeer()));
        }
        return out;
    }

    /** This node's record now. */
    StatusRecord record(NodeContext ctx) throws IOException {
        Map<String, Long> layers = new LinkedHashMap<>();
        for (BlobInfo b : ctx.store().list()) {
            layers.put(b.digest().toString(), b.size());
        }
        long capacity;
        long free;
        long evictable;
        Optional<LayerCache> cache = ctx.cache();
        if (cache.isPresent()) {
            LayerCache c = cache.get();
            capacity = c.capacity();
            long used = c.usedBytes();
            free = Math.max(0, capacity - used);
            // pinned bytes are not tracked per blob, so while anything is pinned claim nothing evictable
            evictable = c.pinCount() == 0 ? used : 0;
        } else {
            // no capacity: the store grows until the disk is full, and nothing is ever evicted
            capacity = Long.MAX_VALUE;
            free = Files.getFileStore(ctx.store().root()).getUsableSpace();
            evictable = 0;
        }
        PublishedLinks links = PublishedLinks.from(measured(ctx), ctx.node().namespaces());
        long now = clock.millis();
        return new StatusRecord(ctx.host().peerId().toBase58(), nextVersion(now), now, now + TTL_PERIODS * period.toMillis(),
                new NodeStatus(nodeName, layers, capacity, free, evictable, links.registries(), links.peers()));
    }

    private static LinkMeasurements measured(NodeContext ctx) throws IOException {
        try {
            return ctx.node().links().get(LINKS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted reading link measurements", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot read link measurements: " + e, e);
        }
    }

    /**
     * Strictly increasing, and seeded from the clock so a restarted node's records are newer than the
     * ones it published before the restart (the view drops versions it has already seen).
     */
    private long nextVersion(long nowMillis) {
        synchronized (lock) {
            lastVersion = Math.max(lastVersion + 1, nowMillis);
            return lastVersion;
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (task != null) {
                task.cancel(false);
            }
            context = null;
        }
    }
}
