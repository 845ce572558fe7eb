package io.layerswarm.libp2p.kad;

import java.util.concurrent.CompletableFuture;

/**
 * How the DHT reaches other peers: each call opens a fresh {@code /ipfs/kad/1.0.0} stream to the
 * peer, writes one framed message and, for requests, reads one framed response. Implementations
 * apply their own dial and response timeouts and complete exceptionally on any failure.
 */
public interface KadTransport {

    /** Sends a request and completes with the peer's response. */
    CompletableFuture<KadMessage> request(KadPeer peer, KadMessage request);

    /** Sends a message that has no response (ADD_PROVIDER); completes once written. */
    CompletableFuture<Void> send(KadPeer peer, KadMessage message);
}
