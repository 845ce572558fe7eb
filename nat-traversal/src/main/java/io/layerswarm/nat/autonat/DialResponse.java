package io.layerswarm.nat.autonat;

import io.layerswarm.libp2p.multiformats.Multiaddr;
import java.util.Objects;

/**
 * An AutoNAT server's answer.
 *
 * @param status the outcome
 * @param text a human-readable reason (may be empty)
 * @param addr OK: the address the server reached us at; otherwise null
 */
public record DialResponse(Status status, String text, Multiaddr addr) {

    /** AutoNAT v1 response statuses (wire values 0, 100, 101, 200, 300). */
    public enum Status {
        /** The server dialled one of the addresses back. */
        OK(0),
        /** It tried and no address worked: we are not reachable there. */
        E_DIAL_ERROR(100),
        /** It refused to try (no acceptable address, rate limit). */
        E_DIAL_REFUSED(101),
        /** The request was malformed. */
        E_BAD_REQUEST(200),
        /** The server failed. */
        E_INTERNAL_ERROR(300);

        private final int code;

        Status(int code) {
            this.code = code;
        }

        /** The wire value. */
        public int code() {
            return code;
        }
    }

    /** Requires a status. */
    public DialResponse {
        Objects.requireNonNull(status, "status");
        text = text == null ? "" : text;
    }
}
