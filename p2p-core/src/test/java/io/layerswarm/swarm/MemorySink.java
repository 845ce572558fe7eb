package io.layerswarm.swarm;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/** A sink that assembles in memory and, like the content store, verifies the whole blob on commit. */
public final class MemorySink implements PieceSink {
    public final byte[] data;
    final Digest digest;
    public volatile boolean committed;
    public volatile boolean aborted;
    final AtomicInteger writes = new AtomicInteger();

    public MemorySink(Digest digest, long size) {
        this.digest = digest;
        this.data = new byte[Math.toIntExact(size)];
    }

    @Override
    public void write(long offset, ByteBuffer piece) {
        writes.incrementAndGet();
        piece.get(data, (int) offset, piece.remaining());
    }

    @Override
    public void commit() throws IOException {
        if (!digest.matches(digest.newMessageDigest().digest(data))) {
            throw new DigestMismatchException(digest, null, "assembled blob does not match " + digest);
        }
        committed = true;
    }

    @Override
    public void abort() {
        aborted = true;
    }
}
