package io.layerswarm.nat.relay;

import java.util.Objects;

/**
 * A message on {@code /libp2p/circuit/relay/0.2.0/hop}; fields not used by a type are null.
 *
 * @param type what the message asks or answers
 * @param peer CONNECT: the target; absent otherwise
 * @param reservation STATUS answering RESERVE: the granted reservation
 * @param limit STATUS: the limits of the reservation's or circuit's connections (null: unlimited)
 * @param status STATUS: the outcome
 */
public record HopMessage(Type type, RelayPeer peer, Reservation reservation, RelayLimit limit, RelayStatus status) {

    /** Message types (wire values 0, 1, 2). */
    public enum Type { RESERVE, CONNECT, STATUS }

    /** Requires a type. */
    public HopMessage {
        Objects.requireNonNull(type, "type");
    }

    /** A reservation request. */
    public static HopMessage reserve() {
        return new HopMessage(Type.RESERVE, null, null, null, null);
    }

    /** A request to be connected to {@code target}. */
    public static HopMessage connect(RelayPeer target) {
        return new HopMessage(Type.CONNECT, Objects.requireNonNull(target), null, null, null);
    }

    /** A response without reservation. */
    public static HopMessage status(RelayStatus status, RelayLimit limit) {
        return new HopMessage(Type.STATUS, null, null, limit, Objects.requireNonNull(status));
    }
}
