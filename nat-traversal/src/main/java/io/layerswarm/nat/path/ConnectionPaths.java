package io.layerswarm.nat.path;

import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.ConnectionListener;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.MultiaddrProtocol;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says which path each connection of a host takes: one log line per connection,
 * {@code event=peer_connected peer=ID path=direct|relayed transport=quic|tcp rtt_ms=N[ relay=circuit|turn][ method=dcutr]},
 * after a muxer ping measured the round trip (over a relay that is the whole path's).
 */
public final class ConnectionPaths implements ConnectionListener {
    /** Set on the channel of a connection through a TURN relay. */
    private static final AttributeKey<Boolean> TURN = AttributeKey.valueOf("layerswarm.nat.turn");
    /** Set on the channel of a connection a hole-punching protocol other than ICE made (e.g. DCUtR). */
    private static final AttributeKey<String> METHOD = AttributeKey.valueOf("layerswarm.nat.method");
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionPaths.class);

    private ConnectionPaths() {
    }

    /** Starts logging {@code host}'s connections. */
    public static void attach(Host host) {
        host.addConnectionListener(new ConnectionPaths());
    }

    /**
     * Marks {@code c} as running through a TURN relay (a QUIC connection over an ICE pair with a relayed
     * candidate): the host does not see that (no {@code /p2p-circuit} in its address, and it rightly prefers
     * it to a libp2p circuit, which has caps on duration and bytes), but its path is relayed.
     *
     * @return {@code c}
     */
    public static Connection markTurn(Connection c) {
        c.channel().attr(TURN).set(Boolean.TRUE);
        return c;
    }

    /**
     * Marks {@code c} as made by {@code method} (e.g. {@code dcutr}), named in its log line. Call while the
     * connection is announced to listeners: the line follows its ping's answer.
     *
     * @return {@code c}
     */
    public static Connection markMethod(Connection c, String method) {
        c.channel().attr(METHOD).set(method);
        return c;
    }

    /** {@code direct} or {@code relayed} (through a libp2p circuit or a TURN relay). */
    public static String path(Connection c) {
        return c.isRelayed() || isTurn(c) ? "relayed" : "direct";
    }

    /** For a relayed connection, what relays it: {@code turn} or {@code circuit}; null for a direct one. */
    public static String relay(Connection c) {
        return isTurn(c) ? "turn" : c.isRelayed() ? "circuit" : null;
    }

    private static boolean isTurn(Connection c) {
        return Boolean.TRUE.equals(c.channel().attr(TURN).get());
    }

    /** The transport of the connection's first hop: {@code quic} or {@code tcp}. */
    public static String transport(Connection c) {
        return c.remoteAddr().valueOf(MultiaddrProtocol.QUIC_V1).isPresent() ? "quic" : "tcp";
    }

    @Override
    public void connected(Connection c) {
        // A later task of the connection's event loop: a TURN connection is marked by whoever dialled or accepted
        // it in the same task that adopted it (QUIC's ping may answer at once, from the transport's RTT estimate).
        c.ping().whenComplete((rtt, e) -> c.channel().eventLoop().execute(() -> {
            String relay = relay(c);
            String method = c.channel().attr(METHOD).get();
            LOG.info("event=peer_connected peer={} path={} transport={} rtt_ms={}{}{}", c.remotePeer(), path(c),
                    transport(c), e == null ? rtt.toMillis() : -1, relay == null ? "" : " relay=" + relay,
                    method == null ? "" : " method=" + method);
        }));
    }
}
