package io.layerswarm.node;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.PieceSink;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.Optional;
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

    /**
     * Opens a committed blob for as long as the caller keeps the channel open: its bytes stay readable
     * even if the blob is deleted (evicted) meanwhile, so a response that found it can finish.
     *
     * @return the open blob, or empty if it is not committed
     */
    Optional<FileChannel> hold(Digest digest) throws IOException;

    /**
     * A reader found a committed blob's bytes wrong (rotted on disk): re-hashes it and, if it is
     * corrupt, deletes it, so it is no longer served or announced and the next request fetches it anew.
     *
     * @return whether it was corrupt and is now gone
     */
    boolean deleteIfCorrupt(Digest digest) throws IOException;

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
