package io.layerswarm.node;

import io.layerswarm.mirror.BlobContent;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A served blob that holds the cache pin its lookup took until the response is done ({@link #close()}),
 * so eviction never pulls a layer out from under a client between the lookup and the last byte.
 */
final class PinnedBlobContent implements BlobContent {
    private final BlobContent delegate;
    private final AutoCloseable pin;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Takes over {@code pin}: {@link #close()} releases it. */
    PinnedBlobContent(BlobContent delegate, AutoCloseable pin) {
        this.delegate = delegate;
        this.pin = pin;
    }

    @Override
    public long size() {
        return delegate.size();
    }

    @Override
    public boolean growing() {
        return delegate.growing();
    }

    @Override
    public InputStream open(long offset, long length) throws IOException {
        return delegate.open(offset, length);
    }

    /** Closes the blob, then releases the pin; once. */
    @Override
    public void close() throws IOException {
        if (closed.compareAndSet(false, true)) {
            try {
                delegate.close();
            } finally {
                release(pin);
            }
        }
    }

    static void release(AutoCloseable pin) {
        try {
            pin.close();
        } catch (Exception e) {
            throw new IllegalStateException("could not release cache pin", e);
        }
    }
}
