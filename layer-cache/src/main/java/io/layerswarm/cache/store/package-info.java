/**
 * Content-addressed on-disk blob store: every blob is written to a temp file, fsynced, verified
 * against its digest and only then atomically renamed into place, so readers never see partial or
 * unverified content. Entry point: {@link io.layerswarm.cache.store.ContentStore}.
 */
package io.layerswarm.cache.store;
