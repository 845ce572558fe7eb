package io.layerswarm.libp2p.tls;

import io.layerswarm.libp2p.crypto.PeerId;

/** The remote's certificate authenticated a different peer than the one dialled. */
public final class TlsPeerIdMismatchException extends TlsException {

    private static final long serialVersionUID = 1L;

    private final transient PeerId expected;
    private final transient PeerId actual;

    /** For a dial of {@code expected} answered by {@code actual}. */
    public TlsPeerIdMismatchException(PeerId expected, PeerId actual) {
        super("TLS: dialled peer " + expected + " but the remote certificate authenticates " + actual);
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
