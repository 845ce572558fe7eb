package io.layerswarm.libp2p.tls;

/** The libp2p TLS handshake failed or the remote's certificate did not authenticate it. */
public class TlsException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** With a message. */
    public TlsException(String message) {
        super(message);
    }

    /** With a message and cause. */
    public TlsException(String message, Throwable cause) {
        super(message, cause);
    }
}
