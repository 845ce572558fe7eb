package io.layerswarm.libp2p.host;

/** Connection events of a {@link Host}; called on the connection's event loop, must not block. */
public interface ConnectionListener {

    /** A connection finished its upgrade (secured, muxed) and was kept. */
    default void connected(Connection connection) {
    }

    /** A kept connection closed. */
    default void disconnected(Connection connection) {
    }
}
