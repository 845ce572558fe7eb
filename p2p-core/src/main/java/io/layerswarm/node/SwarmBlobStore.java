package io.layerswarm.node;

import io.layerswarm.cache.store.BlobInfo;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.cache.store.PartialBlob;

import io.layerswarm.mirror.BlobContent;
import io.layerswarm.node.BlobStore;
import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/** The content store as the swarm's {@link BlobStore}: verified commits only, partial blobs readable. */
public final class SwarmBlobStore implements BlobStore {
    private final ContentStore store;

    /** @param store the node's content store */
    public SwarmBlobStore(ContentStore store) {
        this.store = Objects.requireNonNull(store, "store");
    }

    @Override
    public OptionalLong size(Digest digest) {
        return store.size(digest);
    }

    @Override
    public InputStream open(Digest digest, long offset, long length) throws IOException {
        FileChannel ch = FileChannel.open(store.blobPath(digest), StandardOpenOption.READ);
        if (offset < 0 || length < 0 || offset + length > ch.size()) {
            ch.close();
            throw new IOException("range " + offset + "+" + length + " outside " + digest);
        }
        ch.position(offset);
        return new BlobContent.BoundedInputStream(Channels.newInputStream(ch), length);
    }

    @Override
    public Optional<FileChannel> hold(Digest digest) throws IOException {
        try {
            return Optional.of(FileChannel.open(store.blobPath(digest), StandardOpenOption.READ));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public boolean deleteIfCorrupt(Digest digest) throws IOException {
        return store.deleteIfCorrupt(digest);
    }

    @Override
    public WritableBlob create(Digest digest, long size) throws IOException {
        PartialBlob partial = store.openPartial(digest, size);
        return new WritableBlob() {
            @Override
            public ByteBuffer read(long offset, int length) throws IOException {
                return partial.read(offset, length);
            }

            @Override
            public void write(long offset, ByteBuffer data) throws IOException {
                partial.write(offset, data);
            }

            @Override
            public void commit() throws IOException {
                partial.commit();
            }

            @Override
            public void abort() {
                partial.abort();
            }
        };
    }

    @Override
    public void makeRoom(Digest digest, long size) throws IOException {
        store.makeRoom(digest, size);
    }

    @Override
    public List<Digest> list() throws IOException {
        List<Digest> out = new ArrayList<>();
        for (BlobInfo b : store.list()) {
            out.add(b.digest());
        }
        return out;
    }
}
