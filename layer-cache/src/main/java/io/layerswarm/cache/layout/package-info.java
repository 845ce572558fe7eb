/**
 * OCI image layout directories ({@code oci-layout}, {@code index.json}, {@code blobs/}): writing
 * them from a {@link io.layerswarm.cache.store.ContentStore} and reading them with digest checks.
 */
package io.layerswarm.cache.layout;
