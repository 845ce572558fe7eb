package io.layerswarm.k8s.preheat;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.node.NodeContext;
import io.layerswarm.node.NodeService;
import java.io.IOException;
import java.net.ProtocolException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node side of {@value #PROTOCOL}: the orchestrator opens a stream, sends one {@link PreheatRequest}
 * frame, and gets one {@link PreheatReply} frame once the image is in the store (so the kubelet's pull
 * through the mirror later finds it local). Only libp2p peers reach it, i.e. peers that passed the
 * handshake (and the swarm key, when the cluster has one); {@code allowed} can narrow that further.
 * At most {@code maxConcurrent} preheats run at once; more are answered {@link PreheatReply.Status#BUSY}
 * at once rather than queued, so an orchestrator retries elsewhere or later instead of waiting blind.
 */
public final class PreheatService implements NodeService {
    /** Protocol id. */
    public static final String PROTOCOL = "/layerswarm/preheat/1.0.0";
    /** Default number of preheats a node runs at once. */
    public static final int DEFAULT_MAX_CONCURRENT = 2;
    private static final Logger LOG = LoggerFactory.getLogger(PreheatService.class);

    private final int maxConcurrent;
    private final Duration connectTimeout;
    private final Duration pullTimeout;
    private final Predicate<PeerId> allowed;
    private final Semaphore slots;
    private final Set<Future<?>> running = ConcurrentHashMap.newKeySet();
    private final PreheatCodec codec = new PreheatCodec();
    private volatile NodeContext context;
    private volatile PreheatRunner runner;

    /**
     * @param maxConcurrent preheats run at once; more are refused BUSY
     * @param connectTimeout longest wait for the hinted peers' connections
     * @param pullTimeout longest a preheat's pull may take before the reply says it failed
     * @param allowed which peers may ask
     */
    public PreheatService(int maxConcurrent, Duration connectTimeout, Duration pullTimeout, Predicate<PeerId> allowed) {
        if (maxConcurrent < 1) {
            throw new IllegalArgumentException("maxConcurrent must be at least 1, got " + maxConcurrent);
        }
        this.maxConcurrent = maxConcurrent;
        this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
        this.pullTimeout = Objects.requireNonNull(pullTimeout, "pullTimeout");
        this.allowed = Objects.requireNonNull(allowed, "allowed");
        this.slots = new Semaphore(maxConcurrent);
    }

    /** Two at a time, 10 s to connect, 30 minutes per pull, any peer of the swarm. */
    public PreheatService() {
        this(DEFAULT_MAX_CONCURRENT, Duration.ofSeconds(10), Duration.ofMinutes(30), p -> true);
    }

    @Override
    public void start(NodeContext ctx) {
        context = ctx;
        runner = new PreheatRunner(ctx.node(), connectTimeout);
        ctx.host().setBlockingHandler(PROTOCOL, this::serve);
        LOG.info("event=preheat_service_started max_concurrent={}", maxConcurrent);
    }

    /** One stream: read the request, run it (or refuse), write the reply. */
    private void serve(P2pStream s) throws IOException {
        PeerId from = s.remotePeer();
        PreheatReply reply;
        try {
            reply = answer(from, codec.readRequest(s.inputStream()));
        } catch (ProtocolException e) {
            LOG.info("event=preheat_rejected peer={} reason=malformed detail=\"{}\"", from, e.getMessage());
            reply = PreheatReply.error(e.getMessage());
        }
        codec.write(s.outputStream(), reply);
    }

    private PreheatReply answer(PeerId from, PreheatRequest r) {
        String image = r.namespace() + "/" + r.repository() + ":" + r.reference();
        if (!allowed.test(from)) {
            LOG.info("event=preheat_rejected peer={} image={} reason=not_allowed", from, image);
            return PreheatReply.error("peer " + from + " may not request preheats");
        }
        if (runner.namespace(r.namespace()).isEmpty()) {
            LOG.info("event=preheat_rejected peer={} image={} reason=unknown_namespace", from, image);
            // answered at once, without a slot: a wrong namespace is the caller's mistake, not load
            return runner.run(r);
        }
        if (!slots.tryAcquire()) {
            LOG.info("event=preheat_busy peer={} image={} running={}", from, image, maxConcurrent);
            return new PreheatReply(PreheatReply.Status.BUSY, "node runs " + maxConcurrent + " preheats already",
                    List.of(), 0);
        }
        try {
            LOG.info("event=preheat_started peer={} image={} hints={} hinted_peers={}", from, image, r.sources().size(),
                    r.hintedPeers().size());
            PreheatReply reply = runOffHandler(r);
            LOG.info("event=preheat_done peer={} image={} status={} peer_bytes={} registry_bytes={} elapsed_ms={}{}",
                    from, image, reply.status(), reply.peerBytes(), reply.registryBytes(), reply.elapsedMillis(),
                    reply.message().isEmpty() ? "" : " reason=\"" + reply.message() + "\"");
            return reply;
        } finally {
            slots.release();
        }
    }

    /** The pull runs on the node's executor, bounded by the pull timeout. */
    private PreheatReply runOffHandler(PreheatRequest r) {
        NodeContext ctx = context;
        Future<PreheatReply> f = ctx.executor().submit(() -> runner.run(r));
        running.add(f);
        try {
            return f.get(pullTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (CancellationException e) {
            return PreheatReply.error("node is shutting down");
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return PreheatReply.error("interrupted");
        } catch (ExecutionException e) {
            return PreheatReply.error("preheat failed: " + e.getCause());
        } catch (TimeoutException e) {
            f.cancel(true);
            return PreheatReply.error("preheat took longer than " + pullTimeout);
        } finally {
            running.remove(f);
        }
    }

    @Override
    public void close() {
        NodeContext ctx = context;
        if (ctx != null) {
            ctx.host().removeHandler(PROTOCOL);
        }
        // the waiting handlers answer while the host still runs, instead of writing into a closed stream later
        running.forEach(f -> f.cancel(true));
    }
}
