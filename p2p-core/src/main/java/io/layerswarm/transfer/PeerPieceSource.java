package io.layerswarm.transfer;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.PieceRegion;
import io.layerswarm.swarm.StreamingPieceSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/** A peer as a {@link PieceSource} for one blob, over the layer exchange protocol. */
public final class PeerPieceSource implements StreamingPieceSource {
    private final String peerId;
    private final LayerExchangeClient client;
    private final Digest digest;
    private final long blobSize;
    private final ExecutorService executor;

    /**
     * @param peerId the peer's id
     * @param client a client bound to that peer
     * @param digest the blob
     * @param blobSize its size
     * @param executor runs the blocking requests (interrupted when a request is cancelled)
     */
    public PeerPieceSource(String peerId, LayerExchangeClient client, Digest digest, long blobSize, ExecutorService executor) {
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
        return run(() -> client.piece(digest, blobSize, offset, length));
    }

    @Override
    public CompletableFuture<Void> fetchInto(long offset, PieceRegion region) {
        return run(() -> {
            client.pieceInto(digest, blobSize, offset, region);
            return null;
        });
    }

    private interface Request<T> {
        T call() throws IOException;
    }

    private <T> CompletableFuture<T> run(Request<T> request) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Future<?> task = executor.submit(() -> {
            try {
                result.complete(request.call());
            } catch (IOException | RuntimeException e) {
                result.completeExceptionally(e instanceof IOException io ? new UncheckedIOException(io) : e);
            }
        });
        // A request given up on (timeout, ban) must not keep a thread reading from a peer that never
        // answers or drips: the interrupt ends the blocking read and closes the stream.
        result.whenComplete((r, e) -> {
            if (result.isCancelled()) {
                task.cancel(true);
            }
        });
        return result;
    }
}
