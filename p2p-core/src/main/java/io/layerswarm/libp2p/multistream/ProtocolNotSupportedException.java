package io.layerswarm.libp2p.multistream;

import java.util.List;

/**
 * The peer answered {@code na} to every protocol proposed: it runs none of them. Unlike the other
 * negotiation failures (a closed connection, a garbled message) asking the same peer again will not help.
 */
public final class ProtocolNotSupportedException extends MultistreamException {

    private static final long serialVersionUID = 1L;

    /** The peer declined each of {@code protocols}. */
    public ProtocolNotSupportedException(List<String> protocols) {
        super("multistream: peer supports none of " + protocols);
    }
}
