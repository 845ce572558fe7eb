package io.layerswarm.node;

import io.layerswarm.mirror.BlobContent;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A served blob that holds a cache pin for as long as a response streams it, so eviction never pulls
 * a layer out from under a client: each {@link #open} takes a pin, closing the stream releases it.
 */
final class PinnedBlobContent implements BlobContent {

    /** Takes a pin; closing it releases the pin. */
    @FunctionalInterface
    interface Pinner {
        AutoCloseable pin();
    }

    private final BlobContent delegate;
    private final Pinner pinner;

    PinnedBlobContent(BlobContent delegate, Pinner pinner) {
        this.delegate = delegate;
        this.pinner = pinner;
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
        AutoCloseable pin = pinner.pin();
        InputStream in;
        try {
            in = delegate.open(offset, length);
        } catch (IOException | RuntimeException e) {
            release(pin);
            throw e;
        }
        AtomicBoolean released = new AtomicBoolean();
        return new FilterInputStream(in) {
            @Override
            public void close() throws IOException {
                try {
                    super.close();
                } finally {
                    if (released.compareAndSet(false, true)) {
                        release(pin);
                    }
                }
            }
        };
    }

    static void release(AutoCloseable pin) {
        try {
            pin.close();
        } catch (Exception e) {
            throw new IllegalStateException("could not release cache pin", e);
        }
    }
}
