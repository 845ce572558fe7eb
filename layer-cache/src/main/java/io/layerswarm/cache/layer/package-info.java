/**
 * Reading and applying OCI image layers safely. {@link io.layerswarm.cache.layer.TarWalker} is the
 * single tar-reading mechanism (decompression, size/ratio/header limits, path normalisation);
 * {@link io.layerswarm.cache.layer.LayerApplier} builds on it to unpack a layer onto a root
 * filesystem without ever writing outside it.
 */
package io.layerswarm.cache.layer;
