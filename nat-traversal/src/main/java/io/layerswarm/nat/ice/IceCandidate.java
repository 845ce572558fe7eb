package io.layerswarm.nat.ice;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One ICE candidate as exchanged: a UDP transport address (an IP literal, never resolved) with its kind,
 * foundation and priority (RFC 8445 5.1.2).
 */
public record IceCandidate(Kind kind, String foundation, InetSocketAddress address, long priority) {
    /** Candidate types we exchange (peer-reflexive ones are learnt by the checks, not exchanged). */
    public enum Kind {
        HOST, SERVER_REFLEXIVE, RELAYED
    }

    /** Checks the fields against RFC 8445's grammar and ranges. */
    public IceCandidate {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(address, "address");
        if (foundation == null || foundation.isEmpty() || foundation.length() > 32
                || !IceMessage.isIceChars(foundation)) {
            throw new IllegalArgumentException("foundation must be 1-32 ice-chars: " + foundation);
        }
        if (address.isUnresolved() || address.getPort() == 0) {
            throw new IllegalArgumentException("candidate needs an IP literal and a port: " + address);
        }
        if (priority < 1 || priority > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("priority out of 1..2^32-1: " + priority);
        }
    }
}
