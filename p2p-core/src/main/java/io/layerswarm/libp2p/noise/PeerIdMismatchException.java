package io.layerswarm.libp2p.noise;

import io.layerswarm.libp2p.crypto.PeerId;

/** The remote authenticated as a different peer than the one dialled. */
public final class PeerIdMismatchException extends NoiseException {

    private static final long serialVersionUID = 1L;

    private final transient PeerId expected;
    private final transient PeerId actual;

    /** For a dial of {@code expected} answered by {@code actual}. */
    public PeerIdMismatchException(PeerId expected, PeerId actual) {
        super("Noise: dialled peer " + expected + " but the remote authenticated as " + actual);
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
