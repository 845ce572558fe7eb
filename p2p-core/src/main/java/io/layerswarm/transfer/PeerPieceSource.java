package io.layerswarm.transfer;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.PieceSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** A peer as a {@link PieceSource} for one blob, over the layer exchange protocol. */
public final class PeerPieceSource implements PieceSource {
    private final String peerId;
    private final LayerExchangeClient client;
    private final Digest digest;
    private final long blobSize;
    private final Executor executor;

    /**
     * @param peerId the peer's id
     * @param client a client bound to that peer
     * @param digest the blob
     * @param blobSize its size
     * @param executor runs the blocking requests
     */
    public PeerPieceSource(String peerId, LayerExchangeClient client, Digest digest, long blobSize, Executor executor) {
        this.peerId = peerId;
        this.client = client;
        this.digest = digest;
        this.blobSize = blobSize;
        this.executor = executor;
    }

    @Override
    public String id() {
        return peerId;
    }

    @Override
    public boolean isOrigin() {
        return false;
    }

    @Override
    public CompletableFuture<ByteBuffer> fetch(long offset, int length) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return client.piece(digest, blobSize, offset, length);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, executor);
    }
}
