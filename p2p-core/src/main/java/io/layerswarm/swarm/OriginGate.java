package io.layerswarm.swarm;

/**
 * Decides when a piece may come from the registry. The defaults let a piece go to the origin once no
 * peer holds it, after a short grace in which discovery can add the peers that do; a cluster that
 * pulls one image on many nodes at once can instead assign each piece to one node, so the registry
 * sends each byte about once and the peers share the rest.
 */
@FunctionalInterface
public interface OriginGate {

    /**
     * @param piece the piece
     * @param peerHolders how many usable peers hold it now
     * @param nanosSinceStart time since the download started
     * @param nanosWithoutPeerProgress time since the download last received a piece from a peer (or
     *     started)
     */
    boolean mayFetch(int piece, int peerHolders, long nanosSinceStart, long nanosWithoutPeerProgress);

    /** Origin for any piece no peer holds, at once. */
    static OriginGate whenNoPeerHolds() {
        return (piece, holders, sinceStart, stalled) -> holders == 0;
    }

    /** Origin for pieces no peer holds, once {@code graceNanos} have passed since the start. */
    static OriginGate whenNoPeerHolds(long graceNanos) {
        return (piece, holders, sinceStart, stalled) -> holders == 0 && sinceStart >= graceNanos;
    }

    /**
     * Like {@link #whenNoPeerHolds(long)}, and also for any piece once peers have made no progress for
     * {@code stallNanos}.
     */
    static OriginGate whenNoPeerHoldsOrStalled(long graceNanos, long stallNanos) {
        return (piece, holders, sinceStart, stalled) ->
                sinceStart >= graceNanos && (holders == 0 || stalled >= stallNanos);
    }
}
