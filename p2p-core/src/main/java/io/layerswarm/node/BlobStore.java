package io.layerswarm.node;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.PieceSink;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.OptionalLong;

/**
 * The node's content store as the swarm sees it; the layer cache module provides the real one.
 * Committed blobs are always verified; a {@link WritableBlob} only becomes a blob on a verified commit.
 */
public interface BlobStore {

    /** Size of a committed blob. */
    OptionalLong size(Digest digest);

    /** Reads {@code [offset, offset + length)} of a committed blob. */
    InputStream open(Digest digest, long offset, long length) throws IOException;

    /** Starts a blob written piece by piece. */
    WritableBlob create(Digest digest, long size) throws IOException;

    /**
     * Makes sure a blob of {@code size} bytes would fit (evicting unpinned layers if the store can),
     * before a fetch starts, off the swarm's loop; the store checks again when the blob is created.
     *
     * @throws IOException ({@code io.layerswarm.cache.store.InsufficientStorageException}) if it does not fit
     */
    default void makeRoom(Digest digest, long size) throws IOException {
    }

    /** Committed blobs, to tell newly connected peers what this node holds. */
    List<Digest> list() throws IOException;

    /** A blob being assembled; its verified pieces can be read back to serve other peers. */
    interface WritableBlob extends PieceSink {
        /** Reads back bytes already written. */
        ByteBuffer read(long offset, int length) throws IOException;
    }
}
