package io.layerswarm.k8s.status;

import io.layerswarm.k8s.view.NodeStatus;
import java.util.Objects;

/**
 * A node's published status: what it holds and how well it is connected, by whom, which version, and
 * until when it may be believed.
 *
 * @param peerId the publisher's libp2p peer id (base58), whose key signs the record
 * @param version strictly increasing per publisher; an older or equal version is a replay
 * @param issuedAtMillis when the record was made (epoch ms)
 * @param expiresAtMillis after this instant the node counts as silent (epoch ms)
 * @param status the node's cache and links
 */
public record StatusRecord(String peerId, long version, long issuedAtMillis, long expiresAtMillis, NodeStatus status) {

    /** Validates. */
    public StatusRecord {
        Objects.requireNonNull(peerId, "peerId");
        Objects.requireNonNull(status, "status");
        if (version < 0) {
            throw new IllegalArgumentException("negative record version");
        }
        if (expiresAtMillis <= issuedAtMillis) {
            throw new IllegalArgumentException("record expires (" + expiresAtMillis + ") before it is issued (" + issuedAtMillis + ")");
        }
    }
}
