package io.layerswarm.nat.relay;

import java.time.Duration;
import java.util.Objects;

/**
 * Limits of a {@link RelayService}.
 *
 * @param reservationTtl how long a reservation lasts unless refreshed
 * @param maxReservations reservations held at once, all peers together
 * @param maxReservationsPerIp reservations held at once by peers connecting from one IP address (so one
 *     host cannot take every slot with fresh identities)
 * @param maxCircuits relayed connections open at once
 * @param maxCircuitsPerPeer relayed connections a peer may have open at once, as source or as target
 * @param circuitLimit duration and per-direction bytes of each relayed connection
 * @param handshakeTimeout deadline for each relay message exchange
 */
public record RelayConfig(Duration reservationTtl, int maxReservations, int maxReservationsPerIp, int maxCircuits,
                          int maxCircuitsPerPeer, RelayLimit circuitLimit, Duration handshakeTimeout) {

    /** Checks the values. */
    public RelayConfig {
        Objects.requireNonNull(reservationTtl, "reservationTtl");
        Objects.requireNonNull(circuitLimit, "circuitLimit");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        if (reservationTtl.toSeconds() < 1 || maxReservations < 1 || maxReservationsPerIp < 1 || maxCircuits < 1
                || maxCircuitsPerPeer < 1) {
            throw new IllegalArgumentException("relay limits must be positive: " + this);
        }
    }

    /**
     * One hour reservations, 128 reservations (8 per IP), 64 circuits (4 per peer), each circuit at
     * most 10 minutes and 256 MiB per direction: enough for layer transfers when punching fails, while
     * bounding what one peer can make the relay carry.
     */
    public static RelayConfig defaults() {
        return new RelayConfig(Duration.ofHours(1), 128, 8, 64, 4, new RelayLimit(600, 256L << 20),
                Duration.ofSeconds(30));
    }

    /** A copy with another per-circuit limit. */
    public RelayConfig withCircuitLimit(RelayLimit limit) {
        return new RelayConfig(reservationTtl, maxReservations, maxReservationsPerIp, maxCircuits, maxCircuitsPerPeer,
                limit, handshakeTimeout);
    }

    /** A copy with other reservation counts. */
    public RelayConfig withReservations(int max, int perIp) {
        return new RelayConfig(reservationTtl, max, perIp, maxCircuits, maxCircuitsPerPeer, circuitLimit,
                handshakeTimeout);
    }

    /** A copy with other circuit counts. */
    public RelayConfig withCircuits(int max, int perPeer) {
        return new RelayConfig(reservationTtl, maxReservations, maxReservationsPerIp, max, perPeer, circuitLimit,
                handshakeTimeout);
    }

    /** A copy with another reservation lifetime. */
    public RelayConfig withReservationTtl(Duration ttl) {
        return new RelayConfig(ttl, maxReservations, maxReservationsPerIp, maxCircuits, maxCircuitsPerPeer,
                circuitLimit, handshakeTimeout);
    }
}
