package io.layerswarm.node;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.mirror.UpstreamRouter;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.swarm.SwarmLoop;
import io.layerswarm.transfer.RegistryPieceSource;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the swarm's per-source statistics as {@link LinkMeasurements} (source ids to peers and upstream
 * namespaces) and times light probes of the upstreams, whose round trips go into the same statistics.
 */
final class LinkReader {
    private static final Logger log = LoggerFactory.getLogger(LinkReader.class);
    private final LayerSwarm swarm;
    /** Swarm source id of each upstream ({@code registry:<authority>}) to its namespace. */
    private final Map<String, String> namespaceOfSource = new HashMap<>();
    private final Map<String, RegistryClient> upstreamOfSource = new LinkedHashMap<>();

    LinkReader(LayerSwarm swarm, List<RegistryClient> upstreams) {
        this.swarm = swarm;
        for (RegistryClient up : upstreams) {
            String id = RegistryPieceSource.sourceId(up.baseUri());
            namespaceOfSource.put(id, UpstreamRouter.namespaceOf(up.baseUri()));
            upstreamOfSource.put(id, up);
        }
    }

    /** The measurements now. */
    CompletableFuture<LinkMeasurements> read() {
        return swarm.peerStats().thenApply(this::map);
    }

    /** Maps swarm source ids: an upstream's id to its namespace, a peer id to the peer; others are dropped. */
    LinkMeasurements map(Map<String, SwarmLoop.SourceSnapshot> stats) {
        Map<PeerId, LinkMeasurement> peers = new HashMap<>();
        Map<String, LinkMeasurement> upstreams = new HashMap<>();
        stats.forEach((id, s) -> {
            LinkMeasurement m = new LinkMeasurement(s.bytesPerSecond(), s.rttMillis(), s.bytesReceived());
            String ns = namespaceOfSource.get(id);
            if (ns != null) {
                upstreams.put(ns, m);
                return;
            }
            try {
                peers.put(PeerId.parse(id), m);
            } catch (IllegalArgumentException e) {
                // a registry this node no longer has as upstream (or another kind of source): not a link we publish
            }
        });
        return new LinkMeasurements(peers, upstreams);
    }

    /**
     * Times one {@code GET /v2/} to each upstream on {@code executor} and records the round trip; an
     * upstream that fails the probe gets no sample (a refused connection says nothing about latency).
     */
    CompletableFuture<Void> probe(Executor executor) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        upstreamOfSource.forEach((id, client) -> all.add(CompletableFuture.runAsync(() -> {
            long start = System.nanoTime();
            try {
                client.ping();
                swarm.recordRtt(id, Duration.ofNanos(System.nanoTime() - start));
            } catch (IOException | RuntimeException e) {
                log.debug("event=upstream_probe_failed upstream={} error=\"{}\"", namespaceOfSource.get(id), e.toString());
            }
        }, executor)));
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }
}
