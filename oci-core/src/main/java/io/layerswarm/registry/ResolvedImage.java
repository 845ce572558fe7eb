package io.layerswarm.registry;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageManifest;

/**
 * The outcome of {@link RegistryClient#resolveImage}: the platform's manifest, and the index it was
 * chosen from when the reference named an index.
 *
 * @param repository the repository
 * @param index the index the reference resolved to, or {@code null} if it named a manifest directly
 * @param manifestResponse the platform's manifest as served
 * @param manifest that manifest, parsed
 */
public record ResolvedImage(String repository, ManifestResponse index, ManifestResponse manifestResponse,
                            ImageManifest manifest) {

    /** The digest of the platform manifest. */
    public Digest manifestDigest() {
        return manifestResponse.digest();
    }
}
