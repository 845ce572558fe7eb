package io.layerswarm.mirror;

import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A mirror for several upstream registries: a request naming a registry with {@code ?ns=host[:port]}
 * goes to that registry's provider, a request naming none to the first (default) one. Each upstream
 * has its own provider, so same-named repositories of two registries never share a manifest cache.
 */
public final class UpstreamRouter implements ContentProvider {
    private final Map<String, ContentProvider> byNamespace;
    private final ContentProvider fallback;

    /**
     * @param byNamespace providers keyed by registry host[:port], in order; the first is the default
     * @throws IllegalArgumentException if empty
     */
    public UpstreamRouter(Map<String, ? extends ContentProvider> byNamespace) {
        if (byNamespace.isEmpty()) {
            throw new IllegalArgumentException("no upstream registry");
        }
        Map<String, ContentProvider> m = new LinkedHashMap<>();
        byNamespace.forEach((k, v) -> m.put(k.toLowerCase(Locale.ROOT), v));
        this.byNamespace = java.util.Collections.unmodifiableMap(m);
        this.fallback = m.values().iterator().next();
    }

    /** The {@code ns} value that names a registry at {@code url}: its host, plus the port if explicit. */
    public static String namespaceOf(URI url) {
        String host = url.getHost().toLowerCase(Locale.ROOT);
        return url.getPort() < 0 ? host : host + ":" + url.getPort();
    }

    @Override
    public Optional<ManifestContent> manifest(String repository, String reference, List<String> accept)
            throws IOException {
        return fallback.manifest(repository, reference, accept);
    }

    @Override
    public Optional<BlobContent> blob(String repository, Digest digest) throws IOException {
        return fallback.blob(repository, digest);
    }

    @Override
    public Access access(String repository, String resource, Optional<String> authorization) throws IOException {
        return fallback.access(repository, resource, authorization);
    }

    @Override
    public Optional<ContentProvider> forNamespace(String namespace) {
        return Optional.ofNullable(byNamespace.get(namespace.toLowerCase(Locale.ROOT)));
    }
}
