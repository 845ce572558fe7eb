package io.layerswarm.libp2p.kad;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * A peer as carried in kad messages: its peer id bytes (a multihash), its binary multiaddrs and
 * the sender's view of connectivity. Equality is by peer id only, since addresses change.
 *
 * @param id peer id bytes
 * @param addrs binary multiaddrs, possibly empty
 * @param connection connection state as seen by the sender
 */
public record KadPeer(byte[] id, List<byte[]> addrs, Connection connection) {

    /** Connection types of the spec; the ordinal is the wire value. */
    public enum Connection {
        /** Sender is not connected to the peer. */
        NOT_CONNECTED,
        /** Sender has a live connection to the peer. */
        CONNECTED,
        /** Sender recently connected to the peer. */
        CAN_CONNECT,
        /** Sender recently failed to connect to the peer. */
        CANNOT_CONNECT
    }

    /** Validates and freezes. */
    public KadPeer {
        Objects.requireNonNull(id, "id");
        if (id.length == 0) {
            throw new IllegalArgumentException("empty peer id");
        }
        addrs = List.copyOf(addrs == null ? List.of() : addrs);
        connection = Objects.requireNonNullElse(connection, Connection.NOT_CONNECTED);
    }

    /** A peer without addresses. */
    public static KadPeer of(byte[] id) {
        return new KadPeer(id, List.of(), Connection.NOT_CONNECTED);
    }

    /** This peer with another connection type. */
    public KadPeer withConnection(Connection c) {
        return new KadPeer(id, addrs, c);
    }

    /** The DHT identity (sha256 of the id bytes) of this peer. */
    public KadId kadId() {
        return KadId.of(id);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KadPeer p && Arrays.equals(id, p.id);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(id);
    }

    @Override
    public String toString() {
        String hex = HexFormat.of().formatHex(id);
        return "KadPeer[" + (hex.length() > 16 ? "…" + hex.substring(hex.length() - 12) : hex)
                + " addrs=" + addrs.size() + "]";
    }
}
