package io.layerswarm.node;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.oci.Digest;
import java.time.Duration;
import java.util.Map;

/** What a {@link Node} tells its {@link NodeListener}s; every event is an immutable record. */
public sealed interface NodeEvent {

    /**
     * Verified bytes of a blob being fetched have reached the store.
     *
     * @param blob the blob
     * @param size its size
     * @param bytes verified bytes stored so far (pieces arrive out of order, so this is a count, not an offset)
     */
    record BlobProgress(Digest blob, long size, long bytes) implements NodeEvent {
    }

    /**
     * A blob was fetched into the store, verified.
     *
     * @param blob the blob
     * @param size its size
     * @param bytesBySource verified bytes per source: peer ids (base58) and the registry's source id
     * @param peerBytes bytes from peers
     * @param registryBytes bytes from the upstream registry
     * @param elapsed time the fetch took
     */
    record BlobFetched(Digest blob, long size, Map<String, Long> bytesBySource, long peerBytes, long registryBytes,
                       Duration elapsed) implements NodeEvent {
        /** Copies the map. */
        public BlobFetched {
            bytesBySource = Map.copyOf(bytesBySource);
        }
    }

    /**
     * The node handed a blob to a local client (its mirror or {@link Node#pull}).
     *
     * @param namespace the upstream's host[:port]
     * @param repository the repository asked for
     * @param blob the blob
     * @param size its size
     * @param fromCache whether the store already held it (else it was fetched first)
     */
    record BlobServed(String namespace, String repository, Digest blob, long size, boolean fromCache)
            implements NodeEvent {
    }

    /** A connection to a peer came up. */
    record PeerConnected(PeerId peer) implements NodeEvent {
    }

    /** The connection to a peer went away. */
    record PeerLost(PeerId peer) implements NodeEvent {
    }

    /** The layer cache evicted a blob from the store (peers and the DHT are told it is gone). */
    record BlobEvicted(Digest blob) implements NodeEvent {
    }
}
