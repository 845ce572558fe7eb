package io.layerswarm.transfer;

import io.layerswarm.oci.Digest;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.swarm.PieceRegion;
import io.layerswarm.swarm.StreamingPieceSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** The registry as the origin {@link PieceSource} of one blob, using {@code Range} requests. */
public final class RegistryPieceSource implements StreamingPieceSource {
    private final RegistryClient client;
    private final String repository;
    private final Digest digest;
    private final Executor executor;
    private final String id;

    /**
     * @param client registry client
     * @param repository repository holding the blob
     * @param digest the blob
     * @param executor runs the blocking requests
     */
    public RegistryPieceSource(RegistryClient client, String repository, Digest digest, Executor executor) {
        this.client = Objects.requireNonNull(client, "client");
        this.repository = Objects.requireNonNull(repository, "repository");
        this.digest = Objects.requireNonNull(digest, "digest");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.id = sourceId(client.baseUri());
    }

    /** The {@link #id} of every piece source on the registry at {@code baseUri}: {@code registry:<authority>}. */
    public static String sourceId(java.net.URI baseUri) {
        return "registry:" + baseUri.getAuthority();
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public boolean isOrigin() {
        return true;
    }

    @Override
    public CompletableFuture<ByteBuffer> fetch(long offset, int length) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return ByteBuffer.wrap(client.fetchRange(repository, digest, offset, length));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, executor);
    }

    @Override
    public CompletableFuture<Void> fetchInto(long offset, PieceRegion region) {
        return CompletableFuture.runAsync(() -> {
            try {
                client.fetchRange(repository, digest, offset, region.length(), region);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, executor);
    }
}
