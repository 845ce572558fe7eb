package io.layerswarm.libp2p.host;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the host knows about other peers: addresses (from dials, identify, discovery), and what
 * identify told (protocols, agent). Bounded: at most {@link #MAX_ADDRS_PER_PEER} addresses per peer
 * and {@link #MAX_PEERS} peers (new peers beyond that are not recorded).
 */
public final class PeerStore {
    /** Most addresses kept per peer. */
    public static final int MAX_ADDRS_PER_PEER = 32;
    /** Most peers kept. */
    public static final int MAX_PEERS = 10_000;

    /** A snapshot of one peer's record. */
    public record PeerRecord(PeerId peer, List<Multiaddr> addrs, List<String> protocols, String agentVersion) {
    }

    private static final class Entry {
        final Set<Multiaddr> addrs = new LinkedHashSet<>();
        List<String> protocols = List.of();
        String agentVersion = "";
    }

    private final Map<PeerId, Entry> peers = new ConcurrentHashMap<>();

    private Entry entry(PeerId peer) {
        if (!peers.containsKey(peer) && peers.size() >= MAX_PEERS) {
            return null;
        }
        return peers.computeIfAbsent(peer, p -> new Entry());
    }

    /** Adds addresses (any trailing /p2p is dropped); the oldest are forgotten beyond the cap. */
    public void addAddrs(PeerId peer, Collection<Multiaddr> addrs) {
        Entry e = entry(peer);
        if (e == null) {
            return;
        }
        synchronized (e) {
            for (Multiaddr a : addrs) {
                Multiaddr plain = a.withoutPeerId();
                e.addrs.remove(plain);
                e.addrs.add(plain);
            }
            while (e.addrs.size() > MAX_ADDRS_PER_PEER) {
                e.addrs.remove(e.addrs.iterator().next());
            }
        }
    }

    /** Records what identify reported. */
    public void setIdentity(PeerId peer, List<String> protocols, String agentVersion) {
        Entry e = entry(peer);
        if (e == null) {
            return;
        }
        synchronized (e) {
            e.protocols = List.copyOf(protocols);
            e.agentVersion = agentVersion == null ? "" : agentVersion;
        }
    }

    /** Known addresses of {@code peer}, most recently added last. */
    public List<Multiaddr> addrs(PeerId peer) {
        Entry e = peers.get(peer);
        if (e == null) {
            return List.of();
        }
        synchronized (e) {
            return List.copyOf(e.addrs);
        }
    }

    /** The record of {@code peer}, if known. */
    public Optional<PeerRecord> get(PeerId peer) {
        Entry e = peers.get(peer);
        if (e == null) {
            return Optional.empty();
        }
        synchronized (e) {
            return Optional.of(new PeerRecord(peer, List.copyOf(e.addrs), e.protocols, e.agentVersion));
        }
    }

    /** All known peers. */
    public Set<PeerId> peers() {
        return Set.copyOf(peers.keySet());
    }
}
