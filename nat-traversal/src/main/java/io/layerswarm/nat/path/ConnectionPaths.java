package io.layerswarm.nat.path;

import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says which path each connection of a host takes: one log line per connection,
 * {@code event=peer_connected peer=ID path=direct|relayed transport=quic|tcp rtt_ms=N}, after a muxer
 * ping measured the round trip (over a relay that is the whole circuit's).
 */
public final class ConnectionPaths implements ConnectionListener {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionPaths.class);

    private ConnectionPaths() {
    }

    /** Starts logging {@code host}'s connections. */
    public static void attach(Host host) {
        host.addConnectionListener(new ConnectionPaths());
    }

    /** {@code direct} or {@code relayed}. */
    public static String path(Connection c) {
        return c.isRelayed() ? "relayed" : "direct";
    }

    /** The transport of the connection's first hop: {@code quic} or {@code tcp}. */
    public static String transport(Connection c) {
        return c.remoteAddr().valueOf(MultiaddrProtocol.QUIC_V1).isPresent() ? "quic" : "tcp";
    }

    @Override
    public void connected(Connection c) {
        c.ping().whenComplete((rtt, e) -> LOG.info("event=peer_connected peer={} path={} transport={} rtt_ms={}",
                c.remotePeer(), path(c), transport(c), e == null ? rtt.toMillis() : -1));
    }
}
