package io.layerswarm.nat.stun;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Objects;

/**
 * A STUN message (RFC 5389) as far as binding needs it: its type, transaction id and the mapped
 * address the server saw (XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from older servers), if any.
 *
 * @param type message type (0x0001 binding request, 0x0101 success, 0x0111 error)
 * @param transactionId 12 random bytes pairing a response with its request
 * @param mappedAddress the reflexive transport address in a success response, else null
 */
public record StunMessage(int type, byte[] transactionId, InetSocketAddress mappedAddress) {
    /** Binding request. */
    public static final int BINDING_REQUEST = 0x0001;
    /** Binding success response. */
    public static final int BINDING_SUCCESS = 0x0101;
    /** Binding error response. */
    public static final int BINDING_ERROR = 0x0111;

    /** Copies the transaction id. */
    public StunMessage {
        Objects.requireNonNull(transactionId, "transactionId");
        if (transactionId.length != 12) {
            throw new IllegalArgumentException("STUN transaction id must be 12 bytes, got " + transactionId.length);
        }
        transactionId = transactionId.clone();
    }

    @Override
    public byte[] transactionId() {
        return transactionId.clone();
    }

    /** Whether {@code other} carries the same transaction id. */
    public boolean sameTransaction(byte[] other) {
        return Arrays.equals(transactionId, other);
    }
}
