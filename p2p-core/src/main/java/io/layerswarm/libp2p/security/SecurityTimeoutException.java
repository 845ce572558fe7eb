package io.layerswarm.libp2p.security;

/** The security phase did not finish in time; the channel has been closed. */
public final class SecurityTimeoutException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** With a message. */
    public SecurityTimeoutException(String message) {
        super(message);
    }
}
