package io.layerswarm.swarm;

/**
 * Decides when a piece may come from the registry. The default lets a piece go to the origin once no
 * peer holds it; a cluster that pulls one image on many nodes at once instead assigns each piece to
 * one node, so the registry sends each byte about once and the peers share the rest.
 */
@FunctionalInterface
public interface OriginGate {

    /**
     * @param piece the piece
     * @param peerHolders how many usable peers hold it now
     * @param nanosWithoutPeerProgress time since the download last received a piece from a peer
     */
    boolean mayFetch(int piece, int peerHolders, long nanosWithoutPeerProgress);

    /** Origin only for pieces no peer holds. */
    static OriginGate whenNoPeerHolds() {
        return (piece, holders, stalled) -> holders == 0;
    }

    /**
     * Origin for pieces no peer holds, and for any piece once peers have made no progress for
     * {@code stallNanos}.
     */
    static OriginGate whenNoPeerHoldsOrStalled(long stallNanos) {
        return (piece, holders, stalled) -> holders == 0 || stalled >= stallNanos;
    }
}
