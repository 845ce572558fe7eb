package io.layerswarm.libp2p.host;

import io.layerswarm.libp2p.crypto.PeerId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Policy for a host's connections: a cap on their number, on connections per peer and on inbound
 * connections per remote IP address, one kept connection per peer, idle close and keep-alive pings,
 * driven by {@link #tick()} (the host calls it periodically).
 *
 * <p>The per-address cap is against one attacker with many identities (a key costs nothing): the
 * per-peer cap does not bind them, so without it one machine could take every connection slot. It
 * counts inbound direct connections only: dials this host made are its own choice, and relayed ones
 * all show the relay's address (the relay limits its circuits).
 *
 * <p>Duplicate connections (both peers dialled each other at once) are resolved the same way on both
 * sides without coordination: the connection dialled by the smaller peer id wins, among those the older
 * one; a direct connection always beats a relayed one. The loser is closed once it carries no stream.
 */
final class ConnectionManager {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionManager.class);

    private final PeerId self;
    private final int maxConnections;
    private final int maxPerPeer;
    private final int maxInboundPerAddress;
    private final Duration idleTimeout;
    private final Duration keepAlive;
    private final Map<PeerId, List<Connection>> byPeer = new ConcurrentHashMap<>();
    private final List<Connection> redundant = new CopyOnWriteArrayList<>();

    ConnectionManager(PeerId self, int maxConnections, int maxPerPeer, int maxInboundPerAddress, Duration idleTimeout,
                      Duration keepAlive) {
        this.self = self;
        this.maxConnections = maxConnections;
        this.maxPerPeer = maxPerPeer;
        this.maxInboundPerAddress = maxInboundPerAddress;
        this.idleTimeout = idleTimeout;
        this.keepAlive = keepAlive;
    }

    int count() {
        return byPeer.values().stream().mapToInt(List::size).sum();
    }

    /**
     * Admits a freshly upgraded connection.
     *
     * @return the connection to use for this peer (possibly an older one), or empty if refused
     */
    synchronized Optional<Connection> add(Connection c) {
        if (count() >= maxConnections) {
            LOG.info("event=connection_refused reason=limit peer={} limit={}", c.remotePeer(), maxConnections);
            return Optional.empty();
        }
        List<Connection> existing = byPeer.get(c.remotePeer());
        if (existing != null && existing.size() >= maxPerPeer) {
            LOG.info("event=connection_refused reason=peer_limit peer={} limit={}", c.remotePeer(), maxPerPeer);
            return Optional.empty();
        }
        Optional<String> address = inboundAddress(c);
        if (address.isPresent() && inboundFrom(address.get()) >= maxInboundPerAddress) {
            LOG.info("event=connection_refused reason=address_limit peer={} address={} limit={}", c.remotePeer(),
                    address.get(), maxInboundPerAddress);
            return Optional.empty();
        }
        List<Connection> list = byPeer.computeIfAbsent(c.remotePeer(), p -> new CopyOnWriteArrayList<>());
        list.add(c);
        Connection winner = null;
        for (Connection x : list) {
            if (x.isOpen() && !redundant.contains(x) && (winner == null || better(x, winner))) {
                winner = x;
            }
        }
        for (Connection x : list) {
            if (x != winner && !redundant.contains(x)) {
                redundant.add(x);
                LOG.debug("event=connection_duplicate peer={} closing={}", x.remotePeer(), x);
            }
        }
        return Optional.ofNullable(winner);
    }

    /** The remote IP address of an inbound direct connection; empty for dialled or relayed ones. */
    private static Optional<String> inboundAddress(Connection c) {
        return c.isInitiator() ? Optional.empty() : c.remoteIp();
    }

    private int inboundFrom(String address) {
        int n = 0;
        for (List<Connection> list : byPeer.values()) {
            for (Connection x : list) {
                if (inboundAddress(x).filter(address::equals).isPresent()) {
                    n++;
                }
            }
        }
        return n;
    }

    private PeerId dialer(Connection c) {
        return c.isInitiator() ? self : c.remotePeer();
    }

    private boolean better(Connection a, Connection b) {
        if (a.isRelayed() != b.isRelayed()) {
            // Both sides see the same circuit, so they agree without talking: direct wins.
            return !a.isRelayed();
        }
        int cmp = dialer(a).compareTo(dialer(b));
        return cmp < 0;
    }

    synchronized void remove(Connection c) {
        List<Connection> list = byPeer.get(c.remotePeer());
        if (list != null) {
            list.remove(c);
            if (list.isEmpty()) {
                byPeer.remove(c.remotePeer());
            }
        }
        redundant.remove(c);
    }

    /** The kept open connection to {@code peer}. */
    Optional<Connection> get(PeerId peer) {
        List<Connection> list = byPeer.get(peer);
        if (list == null) {
            return Optional.empty();
        }
        return list.stream().filter(c -> c.isOpen() && !redundant.contains(c)).findFirst();
    }

    List<Connection> all() {
        List<Connection> out = new ArrayList<>();
        byPeer.values().forEach(out::addAll);
        return out;
    }

    /**
     * Closes idle and redundant connections, pings quiet ones and closes those whose keep-alive ping
     * went unanswered for a whole keep-alive period.
     */
    void tick() {
        for (Connection c : all()) {
            long idle = c.idleNanos();
            if (redundant.contains(c) && idle > 0) {
                c.close();
            } else if (idle > idleTimeout.toNanos()) {
                LOG.debug("event=connection_idle_close peer={}", c.remotePeer());
                c.close();
            } else if (c.keepAliveOverdue(keepAlive.toNanos())) {
                LOG.debug("event=keepalive_timeout peer={}", c.remotePeer());
                c.close();
            } else if (idle > keepAlive.toNanos()) {
                c.keepAlivePing().whenComplete((rtt, err) -> {
                    if (err != null) {
                        LOG.debug("event=keepalive_failed peer={} reason=\"{}\"", c.remotePeer(), err.toString());
                        c.close();
                    }
                });
            }
        }
    }
}
