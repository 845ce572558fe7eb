package io.layerswarm.k8s.preheat;

import io.layerswarm.k8s.orchestrator.TransferPlan;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The orchestrator's side of {@value PreheatService#PROTOCOL}: sends a node its {@link PreheatRequest}
 * on a new stream and hands back the node's {@link PreheatReply}. The reply comes when the node's pull
 * is over, which for a large image takes minutes: the future completes then, on {@code io}.
 */
public final class PreheatClient {
    private static final Logger LOG = LoggerFactory.getLogger(PreheatClient.class);
    private final Host host;
    private final Executor io;
    private final PreheatCodec codec = new PreheatCodec();

    /**
     * @param host the orchestrator's libp2p host (a light peer of the swarm)
     * @param io runs the blocking exchange, one thread per request in flight
     */
    public PreheatClient(Host host, Executor io) {
        this.host = host;
        this.io = io;
    }

    /**
     * Sends {@code request} to {@code node} (connecting if needed, from the host's peer store).
     *
     * @return the node's reply; fails with the I/O or protocol error if there is none
     */
    public CompletableFuture<PreheatReply> send(PeerId node, PreheatRequest request) {
        return host.newStream(node, List.of(PreheatService.PROTOCOL)).thenApplyAsync(s -> exchange(node, s, request), io);
    }

    /**
     * Carries out a plan: every target node gets its requests ({@link PlanRequests#forTarget}), one image
     * after another so a pod of many images does not hit the node's concurrency limit; targets run in
     * parallel. A target without a known peer, or whose exchange fails, gets an error reply instead.
     *
     * @return target node name to one reply per request, in request order
     */
    public CompletableFuture<Map<String, List<PreheatReply>>> execute(TransferPlan plan, PodLayers pod,
                                                                      PlanRequests requests, PeerDirectory peers) {
        Map<String, CompletableFuture<List<PreheatReply>>> perTarget = new LinkedHashMap<>();
        for (String target : PlanRequests.targets(plan)) {
            List<PreheatRequest> todo = requests.forTarget(plan, target, pod);
            Optional<PeerId> peer = peers.peerOf(target);
            CompletableFuture<List<PreheatReply>> chain = CompletableFuture.completedFuture(new ArrayList<>());
            for (PreheatRequest r : todo) {
                chain = chain.thenCompose(done -> replyOf(peer, target, r).thenApply(reply -> {
                    done.add(reply);
                    return done;
                }));
            }
            perTarget.put(target, chain);
        }
        return CompletableFuture.allOf(perTarget.values().toArray(CompletableFuture[]::new)).thenApply(v -> {
            Map<String, List<PreheatReply>> out = new LinkedHashMap<>();
            perTarget.forEach((t, f) -> out.put(t, List.copyOf(f.join())));
            return out;
        });
    }

    /** The node's reply, or an error reply saying why there is none (never a failed future). */
    private CompletableFuture<PreheatReply> replyOf(Optional<PeerId> peer, String target, PreheatRequest r) {
        if (peer.isEmpty()) {
            return CompletableFuture.completedFuture(PreheatReply.error("node " + target + " has no known peer id"));
        }
        return send(peer.get(), r).exceptionally(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            LOG.warn("event=preheat_send_failed node={} peer={} reason=\"{}\"", target, peer.get(), cause.toString());
            return PreheatReply.error("no reply from " + target + ": " + cause.getMessage());
        });
    }

    private PreheatReply exchange(PeerId node, P2pStream s, PreheatRequest request) {
        try {
            codec.write(s.outputStream(), request);
            s.closeWrite();
            PreheatReply reply = codec.readReply(s.inputStream());
            LOG.info("event=preheat_reply node={} image={}/{}:{} status={} peer_bytes={} registry_bytes={} elapsed_ms={}",
                    node, request.namespace(), request.repository(), request.reference(), reply.status(),
                    reply.peerBytes(), reply.registryBytes(), reply.elapsedMillis());
            return reply;
        } catch (IOException e) {
            s.reset();
            throw new CompletionException(e);
        } finally {
            s.close();
        }
    }
}
