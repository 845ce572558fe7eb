package io.layerswarm.handoff;

import io.layerswarm.libp2p.crypto.PeerId;
import java.io.IOException;
import java.util.Optional;

/**
 * What a node does as the target of a handoff, as {@link HandoffServer} calls it for an authenticated
 * (and allowed) source peer. A session belongs to the peer that began it.
 */
public interface HandoffTarget {
    /** The receiver of {@code peer}'s session, empty if unknown (or another peer's). */
    Optional<RoundReceiver> receiver(PeerId peer, String session);

    /** Pre-sync: fetches the image into this node (from peers) and its container engine. */
    PrepareStats prepare(PeerId peer, ImageRef image) throws IOException;

    /** Opens a session: creates the container, not started, whose writable layer the rounds fill. */
    void begin(PeerId peer, String session, ContainerConfig config) throws IOException;

    /**
     * A round of the session was committed: the target may apply it to the container ahead of the
     * restore (so the downtime only applies the final diff). A failure fails the round.
     */
    default void committed(PeerId peer, String session) throws IOException {
    }

    /**
     * Installs the received tree into the container's writable layer and starts it; ends the session.
     *
     * @return how long the install and the start took (for the report's downtime breakdown)
     */
    RestoreStats restore(PeerId peer, String session) throws IOException;

    /**
     * For a source recovering from a crash inside the downtime: aborts {@code peer}'s session unless its
     * container was started, atomically with respect to {@link #restore} (after this returns, the session
     * can no longer start), and says which.
     */
    default Outcome resolve(PeerId peer, String session) throws IOException {
        throw new IOException("this node does not resolve handoff sessions");
    }

    /** How a session ended, as {@link #resolve} reports it. */
    enum Outcome {
        /** The target runs the container: the source must not thaw its copy. */
        STARTED,
        /** Aborted (now or before): it will never start here. */
        ABORTED,
        /** No such session here (never begun, or forgotten): nothing of it runs. */
        UNKNOWN
    }

    /**
     * What a restore took.
     *
     * @param installSeconds installing the rest of the received tree into the container's writable layer
     * @param startSeconds starting its task
     */
    record RestoreStats(double installSeconds, double startSeconds) {
    }

    /** Ends the session and removes what {@link #begin} created. */
    void abort(PeerId peer, String session) throws IOException;

    /**
     * What a pre-sync fetched.
     *
     * @param peerBytes image bytes from swarm peers
     * @param registryBytes image bytes from the registry
     */
    record PrepareStats(long peerBytes, long registryBytes) {
    }
}
