package io.layerswarm.libp2p.crypto;

/**
 * The remote authenticated as a different peer than the one dialled, in whichever security
 * protocol (Noise or TLS) secured the connection. Deliberately not a Noise or TLS failure type: the
 * handshake itself worked, the remote is just someone else, and callers need not care which
 * protocol found out.
 */
public final class PeerIdMismatchException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    // PeerId is not serializable; a deserialized exception keeps its message only.
    private final transient PeerId expected;
    private final transient PeerId actual;

    /**
     * For a dial of {@code expected} answered by {@code actual}.
     *
     * @param protocol the security protocol that authenticated the remote, for the message, e.g. {@code Noise}
     */
    public PeerIdMismatchException(String protocol, PeerId expected, PeerId actual) {
        super(protocol + ": dialled peer " + expected + " but the remote authenticated as " + actual);
        this.expected = expected;
        this.actual = actual;
    }

    /** The peer id that was dialled. */
    public PeerId expected() {
        return expected;
    }

    /** The peer id the remote proved. */
    public PeerId actual() {
        return actual;
    }
}
