package io.layerswarm.cache.store;

import io.layerswarm.oci.Digest;

/**
 * Observes blobs entering and leaving a {@link ContentStore}, e.g. so a cache policy can track
 * residency. Callbacks run synchronously on the thread that committed or deleted the blob, after
 * the change is durable, and outside the store's locks (so a listener may hand work to another
 * thread that calls back into the store); they must be quick and must not throw (exceptions are
 * logged and ignored). Events for one digest from different threads may arrive out of order.
 */
public interface StoreListener {
    /** A verified blob became visible in the store. */
    default void onCommitted(Digest digest, long size) {
    }

    /** A blob was removed from the store. */
    default void onDeleted(Digest digest) {
    }
}
