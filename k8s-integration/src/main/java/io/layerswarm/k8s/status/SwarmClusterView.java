package io.layerswarm.k8s.status;

import io.layerswarm.k8s.view.ClusterView;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.NodeStatus;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster view fed by the swarm's signed status records. A record is taken only if it verifies,
 * its version is newer than the one held for that node, and it comes from the key that first spoke for
 * that node name (or from the key an operator pinned); a node whose last record has expired drops out.
 * Nodes publish their peer links keyed by peer id ({@link PublishedLinks}); the view answers them keyed
 * by the node name that peer id speaks for, so scoring finds them by name. A peer-id key no record speaks
 * for is kept as it is (no node of the view has that name).
 */
public final class SwarmClusterView implements ClusterView {
    private static final Logger LOG = LoggerFactory.getLogger(SwarmClusterView.class);
    private final StatusRecordCodec codec;
    private final StatusRecordVerifier verifier;
    private final Clock clock;
    private final Map<String, String> pinnedKeys;
    private final Map<String, StatusRecord> records = new ConcurrentHashMap<>();
    /** Each record's status with peer links keyed by node name; rebuilt on ingest (reads are many, records few). */
    private final Map<String, NodeStatus> resolved = new ConcurrentHashMap<>();
    private final Object resolveLock = new Object();
    /** Bumped after a record changes what a node answers or brings back an expired node ({@link #version()}). */
    private final java.util.concurrent.atomic.AtomicLong version = new java.util.concurrent.atomic.AtomicLong();
    private Map<String, String> nodeOfPeer = Map.of();

    /** Outcome of {@link #ingest}. */
    public enum Result {
        /** Taken into the view. */
        ACCEPTED,
        /** Not decodable. */
        MALFORMED,
        /** Bad signature, or signed by a key that does not own the node name. */
        FORGED,
        /** Expired, or not newer than the version held. */
        STALE,
        /** Validity window not acceptable. */
        BAD_WINDOW
    }

    /**
     * @param codec record codec
     * @param verifier signature and window check
     * @param clock time source for expiry
     * @param pinnedKeys node name to the only peer id allowed to speak for it; other names are
     *     trust-on-first-use
     */
    public SwarmClusterView(StatusRecordCodec codec, StatusRecordVerifier verifier, Clock clock, Map<String, String> pinnedKeys) {
        this.codec = codec;
        this.verifier = verifier;
        this.clock = clock;
        this.pinnedKeys = Map.copyOf(pinnedKeys);
    }

    /** Decodes, verifies and applies one record from the wire. */
    public Result ingest(byte[] wire) {
        SignedStatusRecord r;
        try {
            r = codec.decode(wire);
        } catch (IllegalArgumentException e) {
            LOG.info("event=status_rejected reason=malformed detail=\"{}\"", e.getMessage());
            return Result.MALFORMED;
        }
        return ingest(r);
    }

    /** Verifies and applies one decoded record. */
    public Result ingest(SignedStatusRecord r) {
        StatusRecord rec = r.record();
        String node = rec.status().nodeName();
        Optional<StatusRecordVerifier.Rejection> bad = verifier.check(r);
        if (bad.isPresent()) {
            Result res = switch (bad.get()) {
                case FORGED -> Result.FORGED;
                case EXPIRED -> Result.STALE;
                case BAD_WINDOW -> Result.BAD_WINDOW;
            };
            LOG.info("event=status_rejected node={} peer={} reason={}", node, rec.peerId(), res);
            return res;
        }
        String pinned = pinnedKeys.get(node);
        Result[] out = {Result.ACCEPTED};
        boolean[] revived = {false};
        long now = clock.millis();
        records.compute(node, (k, old) -> {
            String owner = pinned != null ? pinned : old != null ? old.peerId() : rec.peerId();
            if (!owner.equals(rec.peerId())) {
                out[0] = Result.FORGED;
                return old;
            }
            if (old != null && rec.version() <= old.version()) {
                out[0] = Result.STALE;
                return old;
            }
            revived[0] = old == null || old.expiresAtMillis() <= now;
            return rec;
        });
        if (out[0] != Result.ACCEPTED) {
            LOG.info("event=status_rejected node={} peer={} version={} reason={}", node, rec.peerId(), rec.version(), out[0]);
        } else {
            if (revived[0]) {
                // once per node joining (or coming back after its record expired): what an operator greps for
                LOG.info("event=status_node_joined node={} peer={}", node, rec.peerId());
            }
            if (resolve(node) || revived[0]) {
                version.incrementAndGet();
            }
        }
        return out[0];
    }

    /**
     * Re-keys {@code node}'s peer links by node name; every node's when a peer id got or changed its name.
     * A status equal to the one held keeps the held object (a node re-publishing the same content changes
     * nothing a scheduler sees).
     *
     * @return whether any node's status changed
     */
    private boolean resolve(String node) {
        synchronized (resolveLock) {
            Map<String, String> index = new HashMap<>();
            records.values().forEach(r -> index.put(r.peerId(), r.status().nodeName()));
            boolean changed = false;
            if (!index.equals(nodeOfPeer)) {
                nodeOfPeer = Map.copyOf(index);
                for (Map.Entry<String, StatusRecord> e : records.entrySet()) {
                    changed |= put(e.getKey(), byNodeName(e.getValue().status(), nodeOfPeer));
                }
            } else {
                StatusRecord r = records.get(node);
                changed = put(node, byNodeName(r.status(), nodeOfPeer));
            }
            return changed;
        }
    }

    private boolean put(String node, NodeStatus s) {
        NodeStatus old = resolved.get(node);
        if (s.equals(old)) {
            return false;
        }
        resolved.put(node, s);
        return true;
    }

    @Override
    public long version() {
        return version.get();
    }

    private static NodeStatus byNodeName(NodeStatus s, Map<String, String> nodeOfPeer) {
        if (s.peers().keySet().stream().noneMatch(nodeOfPeer::containsKey)) {
            return s;
        }
        Map<String, LinkEstimate> peers = new HashMap<>();
        s.peers().forEach((k, v) -> {
            if (!nodeOfPeer.containsKey(k)) {
                peers.put(k, v);
            }
        });
        // a link measured to the peer id wins over a name key of the same node
        s.peers().forEach((k, v) -> {
            String name = nodeOfPeer.get(k);
            if (name != null) {
                peers.put(name, v);
            }
        });
        return new NodeStatus(s.nodeName(), s.layers(), s.capacityBytes(), s.freeBytes(), s.evictableBytes(),
                s.registries(), peers);
    }

    private NodeStatus statusOf(StatusRecord r) {
        return resolved.getOrDefault(r.status().nodeName(), r.status());
    }

    @Override
    public Optional<NodeStatus> node(String nodeName) {
        StatusRecord r = records.get(nodeName);
        return r == null || r.expiresAtMillis() <= clock.millis() ? Optional.empty() : Optional.of(statusOf(r));
    }

    /** The peer id (base58) whose live record speaks for {@code nodeName}, if any. */
    public Optional<String> peerIdOf(String nodeName) {
        StatusRecord r = records.get(nodeName);
        return r == null || r.expiresAtMillis() <= clock.millis() ? Optional.empty() : Optional.of(r.peerId());
    }

    /** The node name a live record of {@code peerId} (base58) speaks for, if any. */
    public Optional<String> nodeNameOf(String peerId) {
        long now = clock.millis();
        return records.values().stream().filter(r -> r.peerId().equals(peerId) && r.expiresAtMillis() > now)
                .map(r -> r.status().nodeName()).findFirst();
    }

    @Override
    public Collection<NodeStatus> nodes() {
        long now = clock.millis();
        List<NodeStatus> out = new ArrayList<>();
        for (StatusRecord r : records.values()) {
            if (r.expiresAtMillis() > now) {
                out.add(statusOf(r));
            }
        }
        return out;
    }
}
