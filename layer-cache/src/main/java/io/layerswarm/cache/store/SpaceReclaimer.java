package io.layerswarm.cache.store;

/**
 * Frees space in a {@link ContentStore} when a new blob does not fit, by deleting blobs it may
 * lose (the layer cache evicts unpinned layers). Called on the writing thread, outside the
 * store's locks.
 */
@FunctionalInterface
public interface SpaceReclaimer {
    /**
     * Deletes blobs worth at least {@code bytes} if it can.
     *
     * @return bytes deleted (may be less than asked, or 0)
     */
    long reclaim(long bytes);
}
