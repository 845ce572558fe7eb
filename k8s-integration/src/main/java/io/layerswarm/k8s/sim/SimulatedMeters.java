package io.layerswarm.k8s.sim;

import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.swarm.SourceStats;
import java.util.HashMap;
import java.util.Map;

/**
 * What each simulated node would have measured of its links, measured the way a real node does: the
 * swarm's own {@link SourceStats} per source (registry and each peer), fed with one sample per piece
 * of every layer the node fetched (request to arrival over the true link: one round trip plus the piece
 * at the link's rate, as {@code BlobDownload} times pieces), with bounded probe reads
 * ({@link SourceStats#recordProbe}) where the node has the probes on, and with the true round trip as
 * its ping (libp2p ping to peers, {@code GET /v2/} to the registry). A link is published only once it
 * has a throughput, with the ping as its RTT, as {@code PublishedLinks} does.
 */
final class SimulatedMeters {
    static final String REGISTRY = "registry";

    private final int pieceBytes;
    private final int probeBytes;
    private final Map<String, SourceStats>[] stats;

    /**
     * @param nodes cluster size
     * @param pieceBytes the swarm's piece size: one throughput sample per piece
     * @param probeBytes bytes of one probe read; 0 = no probes (links learned from transfers only)
     */
    @SuppressWarnings("unchecked")
    SimulatedMeters(int nodes, int pieceBytes, int probeBytes) {
        if (pieceBytes < 1 || probeBytes < 0) {
            throw new IllegalArgumentException("piece size must be >= 1 and probe size >= 0");
        }
        this.pieceBytes = pieceBytes;
        this.probeBytes = probeBytes;
        this.stats = new Map[nodes];
        for (int i = 0; i < nodes; i++) {
            stats[i] = new HashMap<>();
        }
    }

    /** Whether nodes probe links no transfer measured. */
    boolean probes() {
        return probeBytes > 0;
    }

    private SourceStats of(int node, String source, LinkEstimate truth) {
        return stats[node].computeIfAbsent(source, k -> {
            SourceStats s = new SourceStats();
            s.recordRtt(truth.rttMillis()); // the ping comes first: it needs no transfer
            return s;
        });
    }

    /** Node {@code node} fetched {@code bytes} from {@code source} over {@code truth}, piece by piece. */
    void fetched(int node, String source, LinkEstimate truth, long bytes) {
        SourceStats s = of(node, source, truth);
        for (long off = 0; off < bytes; off += pieceBytes) {
            long piece = Math.min(pieceBytes, bytes - off);
            s.recordPiece(piece, nanos(truth, piece));
        }
    }

    /**
     * One probe read of {@code source} over {@code truth} if the node has no throughput for it yet.
     *
     * @return whether it probed
     */
    boolean probeIfUnmeasured(int node, String source, LinkEstimate truth) {
        SourceStats s = of(node, source, truth);
        if (!probes() || s.bytesPerSecond() > 0) {
            return false;
        }
        s.recordProbe(probeBytes, nanos(truth, probeBytes));
        return true;
    }

    /** The link node {@code node} publishes for {@code source}, or {@code null} while it has no throughput. */
    LinkEstimate published(int node, String source) {
        SourceStats s = stats[node].get(source);
        if (s == null || s.bytesPerSecond() <= 0) {
            return null;
        }
        return new LinkEstimate(s.bytesPerSecond(), Double.isNaN(s.rttMillis()) ? 0 : s.rttMillis());
    }

    private static long nanos(LinkEstimate truth, long bytes) {
        return Math.max(1, Math.round(truth.seconds(bytes) * 1e9));
    }
}
