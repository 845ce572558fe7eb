package io.layerswarm.nat.relay;

/** Status codes of circuit relay v2 responses (the spec's {@code Status} enum). */
public enum RelayStatus {
    /** Not a status (protobuf default). */
    UNUSED(0),
    /** Request granted. */
    OK(100),
    /** The relay does not take this reservation (limits, or not a relay). */
    RESERVATION_REFUSED(200),
    /** A per-peer or global limit was hit. */
    RESOURCE_LIMIT_EXCEEDED(201),
    /** The relay or the target refuses this peer. */
    PERMISSION_DENIED(202),
    /** The relay could not reach the target. */
    CONNECTION_FAILED(203),
    /** The target holds no reservation on this relay. */
    NO_RESERVATION(204),
    /** The request did not decode. */
    MALFORMED_MESSAGE(400),
    /** The request type is not valid on this protocol. */
    UNEXPECTED_MESSAGE(401);

    private final int code;

    RelayStatus(int code) {
        this.code = code;
    }

    /** The wire code. */
    public int code() {
        return code;
    }
}
