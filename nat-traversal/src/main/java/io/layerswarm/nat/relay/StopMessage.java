package io.layerswarm.nat.relay;

import java.util.Objects;

/**
 * A message on {@code /libp2p/circuit/relay/0.2.0/stop}; fields not used by a type are null.
 *
 * @param type CONNECT (relay to target) or STATUS (target's answer)
 * @param peer CONNECT: the peer that asked to be connected
 * @param limit CONNECT: limits the relay applies to the circuit (null: unlimited)
 * @param status STATUS: the outcome
 */
public record StopMessage(Type type, RelayPeer peer, RelayLimit limit, RelayStatus status) {

    /** Message types (wire values 0, 1). */
    public enum Type { CONNECT, STATUS }

    /** Requires a type. */
    public StopMessage {
        Objects.requireNonNull(type, "type");
    }

    /** The relay's announcement of an incoming circuit from {@code source}. */
    public static StopMessage connect(RelayPeer source, RelayLimit limit) {
        return new StopMessage(Type.CONNECT, Objects.requireNonNull(source), limit, null);
    }

    /** The target's answer. */
    public static StopMessage status(RelayStatus status) {
        return new StopMessage(Type.STATUS, null, null, Objects.requireNonNull(status));
    }
}
