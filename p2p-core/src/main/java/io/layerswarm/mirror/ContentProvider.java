package io.layerswarm.mirror;

import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Where a {@link DistributionServer} gets what it serves: an OCI layout, the local cache, the swarm or an
 * upstream registry. Implementations may block; the server calls them off the event loop.
 */
public interface ContentProvider {

    /**
     * Looks up a manifest or index by tag or digest.
     *
     * @param repository validated repository name
     * @param reference tag or digest string
     * @param accept media types the client accepts, in its order (may be empty: anything)
     * @return the manifest, or empty if unknown
     */
    Optional<ManifestContent> manifest(String repository, String reference, List<String> accept) throws IOException;

    /**
     * Looks up a blob.
     *
     * @return the blob, or empty if unknown
     */
    Optional<BlobContent> blob(String repository, Digest digest) throws IOException;

    /**
     * Whether a client may read a manifest or blob of {@code repository}; asked before
     * {@link #manifest} or {@link #blob}. The default lets everyone read everything.
     *
     * @param resource {@code manifests/<reference>} or {@code blobs/<digest>}, validated
     * @param authorization the client's {@code Authorization} header, if it sent one
     */
    default Access access(String repository, String resource, Optional<String> authorization) throws IOException {
        return Access.GRANTED;
    }

    /**
     * The provider for the registry a request names with {@code ?ns=host[:port]}. A provider that
     * pulls through one upstream answers for that upstream only; the default serves every namespace
     * (e.g. a local layout has no upstream).
     *
     * @param namespace validated, lowercased host[:port]
     * @return the provider, or empty if this mirror is not configured for that registry
     */
    default Optional<ContentProvider> forNamespace(String namespace) {
        return Optional.of(this);
    }
}
