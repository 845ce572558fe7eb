package io.layerswarm.libp2p.multistream;

/** A multistream-select negotiation failed: malformed message, protocol violation or no agreement. */
public class MultistreamException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** With a message. */
    public MultistreamException(String message) {
        super(message);
    }

    /** With a message and cause. */
    public MultistreamException(String message, Throwable cause) {
        super(message, cause);
    }
}
