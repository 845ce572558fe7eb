package io.layerswarm.nat.relay;

/**
 * Limits the relay puts on one relayed connection (spec {@code Limit}): how long it may stay open
 * and how many bytes may pass in each direction. Zero means "not limited".
 *
 * @param durationSeconds seconds until the relay closes the circuit (0: no limit)
 * @param dataBytes bytes allowed in each direction (0: no limit)
 */
public record RelayLimit(long durationSeconds, long dataBytes) {

    /** No limit. */
    public static final RelayLimit NONE = new RelayLimit(0, 0);

    /** Checks the values are representable on the wire. */
    public RelayLimit {
        if (durationSeconds < 0 || durationSeconds > 0xFFFF_FFFFL || dataBytes < 0) {
            throw new IllegalArgumentException("bad relay limit duration=" + durationSeconds + " data=" + dataBytes);
        }
    }
}
