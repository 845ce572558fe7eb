package io.layerswarm.k8s.extender;

/** A request the extender cannot act on; the HTTP layer answers 400 with its message. */
public final class ExtenderRequestException extends RuntimeException {

    /** @param message what is wrong with the request, for the caller */
    public ExtenderRequestException(String message) {
        super(message);
    }

    /**
     * @param message what is wrong with the request
     * @param cause the parser's exception
     */
    public ExtenderRequestException(String message, Throwable cause) {
        super(message, cause);
    }
}
