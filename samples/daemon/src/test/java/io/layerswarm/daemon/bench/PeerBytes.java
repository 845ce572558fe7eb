package io.layerswarm.daemon.bench;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Adds up, from a node's log, the blob bytes it took from peers of its own cluster and of the other
 * clusters: each {@code event=blob_downloaded ... sources={ID=BYTES, ...}} line (the swarm's verified
 * bytes per source) counts its peer sources by the cluster of the peer id. Registry sources and peers
 * the map does not know (the extender, say) are not peer bytes of either kind. These are payload bytes
 * the node used, not bytes on the wire (a piece fetched twice counts once).
 *
 * @param sameCluster bytes from peers in the node's own cluster
 * @param otherClusters bytes from peers in other clusters
 */
record PeerBytes(long sameCluster, long otherClusters) {
    private static final Pattern SOURCES = Pattern.compile("event=blob_downloaded .*?sources=\\{([^}]*)}");
    private static final Pattern ENTRY = Pattern.compile("([^=,\\s]+)=(\\d+)");

    static final PeerBytes NONE = new PeerBytes(0, 0);

    /**
     * @param clusterOfPeer peer id (base58) to cluster index
     * @param cluster the cluster of the node whose log this is
     * @param lines the node's log lines
     */
    static PeerBytes of(Map<String, Integer> clusterOfPeer, int cluster, Stream<String> lines) {
        long same = 0;
        long other = 0;
        for (String line : (Iterable<String>) lines::iterator) {
            Matcher m = SOURCES.matcher(line);
            if (!m.find()) {
                continue;
            }
            Matcher e = ENTRY.matcher(m.group(1));
            while (e.find()) {
                Integer c = clusterOfPeer.get(e.group(1));
                if (c == null) {
                    continue;
                }
                long bytes;
                try {
                    bytes = Long.parseLong(e.group(2));
                } catch (NumberFormatException overflow) {
                    continue; // not a count this log would write
                }
                if (c == cluster) {
                    same += bytes;
                } else {
                    other += bytes;
                }
            }
        }
        return new PeerBytes(same, other);
    }

    PeerBytes plus(PeerBytes o) {
        return new PeerBytes(sameCluster + o.sameCluster, otherClusters + o.otherClusters);
    }
}
