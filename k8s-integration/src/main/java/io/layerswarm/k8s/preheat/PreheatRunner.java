package io.layerswarm.k8s.preheat;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.Node;
import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.PulledImage;
import io.layerswarm.oci.Descriptor;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out one {@link PreheatRequest} on a node: dials the hinted peers (a connected peer answers the
 * swarm's claim for a blob it holds, so the swarm takes the blob from it instead of the registry), then
 * pulls the image into the store and reports where each blob's bytes came from. Blocking; the caller
 * chooses the thread.
 */
final class PreheatRunner {
    private static final Logger LOG = LoggerFactory.getLogger(PreheatRunner.class);
    /** Docker Hub images name {@code docker.io}; nodes configure the registry's real host. */
    private static final String DOCKER_HUB = "docker.io";
    private static final String DOCKER_HUB_REGISTRY = "registry-1.docker.io";

    private final Node node;
    private final Duration connectTimeout;

    PreheatRunner(Node node, Duration connectTimeout) {
        this.node = node;
        this.connectTimeout = connectTimeout;
    }

    /** The namespace the node serves for the request's, if any. */
    Optional<String> namespace(String requested) {
        List<String> known = node.namespaces();
        if (known.contains(requested)) {
            return Optional.of(requested);
        }
        if (requested.equals(DOCKER_HUB) && known.contains(DOCKER_HUB_REGISTRY)) {
            return Optional.of(DOCKER_HUB_REGISTRY);
        }
        return Optional.empty();
    }

    /** Runs the request; every failure becomes an {@link PreheatReply.Status#ERROR} reply. */
    PreheatReply run(PreheatRequest r) {
        long start = System.nanoTime();
        Optional<String> ns = namespace(r.namespace());
        if (ns.isEmpty()) {
            return PreheatReply.error("unknown namespace " + r.namespace() + " (this node serves " + node.namespaces() + ")");
        }
        connectHinted(r);
        FetchTally tally = new FetchTally();
        node.addListener(tally);
        PulledImage image;
        try {
            image = node.pull(ns.get(), r.repository(), r.reference(), r.platform());
        } catch (IOException | RuntimeException e) {
            return new PreheatReply(PreheatReply.Status.ERROR, "pull " + r.repository() + ":" + r.reference()
                    + " failed: " + e.getMessage(), List.of(), millisSince(start));
        } finally {
            node.removeListener(tally);
        }
        List<BlobOutcome> blobs = new ArrayList<>();
        for (Descriptor d : image.blobs()) {
            String digest = d.digest().toString();
            Optional<NodeEvent.BlobFetched> f = tally.of(digest);
            blobs.add(f.map(e -> new BlobOutcome(digest, e.peerBytes(), e.registryBytes(), false, null))
                    .orElseGet(() -> new BlobOutcome(digest, 0, 0, true, null)));
        }
        return new PreheatReply(PreheatReply.Status.OK, "", blobs, millisSince(start));
    }

    /** Dials every hinted peer at once, waiting at most the connect timeout; a peer that fails is only logged. */
    private void connectHinted(PreheatRequest r) {
        Host host = node.host();
        List<CompletableFuture<Connection>> dials = new ArrayList<>();
        for (PeerId p : r.hintedPeers()) {
            if (p.equals(host.peerId())) {
                continue;
            }
            CompletableFuture<Connection> dial = dial(host, p, r.addressesOf(p));
            dials.add(dial.whenComplete((c, e) -> {
                if (e != null) {
                    LOG.info("event=preheat_peer_unreachable peer={} reason=\"{}\"", p, e.getMessage());
                }
            }));
        }
        try {
            CompletableFuture.allOf(dials.toArray(CompletableFuture[]::new))
                    .get(connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // the swarm still finds holders among the peers that did connect, and the registry has the rest
            LOG.debug("event=preheat_connect_incomplete reason=\"{}\"", e.toString());
        }
    }

    /** The existing connection, else the given addresses in turn, else what the peer store knows. */
    private static CompletableFuture<Connection> dial(Host host, PeerId peer, List<Multiaddr> addrs) {
        if (host.connection(peer).isPresent() || addrs.isEmpty()) {
            return host.connect(peer);
        }
        Multiaddr suffix = Multiaddr.parse("/p2p/" + peer.toBase58());
        CompletableFuture<Connection> f = CompletableFuture.failedFuture(new IOException("no address worked for " + peer));
        for (Multiaddr a : addrs) {
            // the hinted peer id wins over one inside the address: the node dials whom the plan named
            Multiaddr full = a.withoutPeerId().encapsulate(suffix);
            f = f.exceptionallyCompose(e -> host.connect(full));
        }
        return f.exceptionallyCompose(e -> host.connect(peer));
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
