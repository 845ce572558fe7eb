package io.layerswarm.libp2p.noise;

/**
 * A Noise handshake or transport failure (bad MAC, bad signature, protocol violation). A remote that
 * authenticates as another peer than the one dialled fails with
 * {@link io.layerswarm.libp2p.crypto.PeerIdMismatchException} instead.
 */
public class NoiseException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** With a message. */
    public NoiseException(String message) {
        super(message);
    }

    /** With a message and cause. */
    public NoiseException(String message, Throwable cause) {
        super(message, cause);
    }
}
