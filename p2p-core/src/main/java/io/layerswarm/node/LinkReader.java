package io.layerswarm.node;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.mirror.UpstreamRouter;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.registry.ManifestResponse;
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
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the swarm's per-source statistics as {@link LinkMeasurements} (source ids to peers and upstream
 * namespaces) and times light probes of the upstreams, whose round trips and throughput go into the
 * same statistics.
 */
final class LinkReader {
    private static final Logger log = LoggerFactory.getLogger(LinkReader.class);
    private final LayerSwarm swarm;
    /** Swarm source id of each upstream ({@code registry:<authority>}) to its namespace. */
    private final Map<String, String> namespaceOfSource = new HashMap<>();
    private final Map<String, RegistryClient> upstreamOfSource = new LinkedHashMap<>();
    /** Per upstream source id, the blob its throughput probe reads (found once through the catalog). */
    private final Map<String, ProbeBlob> probeBlobs = new ConcurrentHashMap<>();
    /** Repositories of the catalog tried for a probe blob: the first few are enough, a catalog can be huge. */
    static final int PROBE_REPOSITORIES = 3;

    /** A blob an upstream holds, to read a bounded range of. */
    record ProbeBlob(String repository, Digest digest, long size) {
    }

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

    /**
     * For each upstream no transfer has measured a throughput of yet, reads the first {@code maxBytes}
     * of one blob it holds (an HTTP range read, timed from request to the last byte like a piece) and
     * records it as a throughput sample; one upstream at a time, on {@code executor}. The blob is found
     * once per upstream through its catalog (first repositories, first tag, the largest layer), so a
     * registry without a readable catalog (e.g. Docker Hub) gets no throughput probe; failures are logged.
     *
     * @return how many upstreams were measured
     */
    CompletableFuture<Integer> probeThroughput(Executor executor, int maxBytes) {
        return swarm.peerStats().thenApplyAsync(stats -> {
            int measured = 0;
            for (Map.Entry<String, RegistryClient> e : upstreamOfSource.entrySet()) {
                SwarmLoop.SourceSnapshot s = stats.get(e.getKey());
                if (s != null && s.bytesPerSecond() > 0) {
                    continue;
                }
                if (probeThroughput(e.getKey(), e.getValue(), maxBytes)) {
                    measured++;
                }
            }
            return measured;
        }, executor);
    }

    private boolean probeThroughput(String id, RegistryClient client, int maxBytes) {
        String ns = namespaceOfSource.get(id);
        try {
            ProbeBlob blob = probeBlobs.get(id);
            if (blob == null) {
                Optional<ProbeBlob> found = findProbeBlob(client);
                if (found.isEmpty()) {
                    log.debug("event=upstream_throughput_probe_skipped upstream={} reason=\"no blob found in the catalog\"", ns);
                    return false;
                }
                blob = found.get();
                probeBlobs.put(id, blob);
            }
            int length = (int) Math.min(blob.size(), maxBytes);
            long start = System.nanoTime();
            client.fetchRange(blob.repository(), blob.digest(), 0, length, java.io.OutputStream.nullOutputStream());
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            swarm.recordProbe(id, length, took);
            log.debug("event=upstream_throughput_probe upstream={} blob={} bytes={} ms={}", ns, blob.digest(), length,
                    took.toMillis());
            return true;
        } catch (IOException | RuntimeException e) {
            probeBlobs.remove(id); // the blob may be gone: look again next time
            log.debug("event=upstream_throughput_probe_failed upstream={} error=\"{}\"", ns, e.toString());
            return false;
        }
    }

    /** The largest layer of the first tagged image among the catalog's first repositories, if any. */
    static Optional<ProbeBlob> findProbeBlob(RegistryClient client) throws IOException {
        List<String> repositories = client.catalog();
        for (String repo : repositories.subList(0, Math.min(PROBE_REPOSITORIES, repositories.size()))) {
            List<String> tags = client.listTags(repo);
            if (tags.isEmpty()) {
                continue;
            }
            ManifestResponse m = client.getManifest(repo, tags.get(0));
            if (m.isIndex()) {
                // any platform will do: the probe only needs bytes the registry holds
                List<Descriptor> entries = m.index().manifests();
                if (entries.isEmpty()) {
                    continue;
                }
                m = client.getManifest(repo, entries.get(0).digest().toString());
                if (m.isIndex()) {
                    continue;
                }
            }
            Optional<Descriptor> largest = m.manifest().layers().stream().filter(d -> d.size() > 0)
                    .max(java.util.Comparator.comparingLong(Descriptor::size));
            if (largest.isPresent()) {
                return Optional.of(new ProbeBlob(repo, largest.get().digest(), largest.get().size()));
            }
        }
        return Optional.empty();
    }
}
