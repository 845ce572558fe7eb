package io.layerswarm.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class UpstreamRouterTest {

    /** A provider that serves one manifest whose bytes name it. */
    private record Named(String name) implements ContentProvider {
        @Override
        public Optional<ManifestContent> manifest(String repository, String reference, List<String> accept) {
            return Optional.of(ManifestContent.of(("{\"n\":\"" + name + "\"}").getBytes(StandardCharsets.UTF_8),
                    "application/vnd.oci.image.manifest.v1+json"));
        }

        @Override
        public Optional<BlobContent> blob(String repository, Digest digest) {
            return Optional.empty();
        }
    }

    @Test
    void routesByNamespaceAndDefaultsToTheFirst() throws Exception {
        Map<String, ContentProvider> m = new LinkedHashMap<>();
        Named one = new Named("one");
        Named two = new Named("two");
        m.put("Registry.Example.com", one);
        m.put("127.0.0.1:5000", two);
        UpstreamRouter r = new UpstreamRouter(m);
        assertSame(one, r.forNamespace("registry.example.com").orElseThrow());
        assertSame(two, r.forNamespace("127.0.0.1:5000").orElseThrow());
        assertTrue(r.forNamespace("127.0.0.1:5001").isEmpty(), "an unconfigured registry is not served");
        assertTrue(r.forNamespace("127.0.0.1").isEmpty(), "the port is part of the name");
        assertEquals("{\"n\":\"one\"}", new String(r.manifest("a", "t", List.of()).orElseThrow().bytes(),
                StandardCharsets.UTF_8));
        assertThrows(IllegalArgumentException.class, () -> new UpstreamRouter(Map.of()));
    }

    @Test
    void namespaceOfAUrlIsHostAndExplicitPort() {
        assertEquals("ghcr.io", UpstreamRouter.namespaceOf(URI.create("https://GHCR.io/v2/")));
        assertEquals("127.0.0.1:5000", UpstreamRouter.namespaceOf(URI.create("http://127.0.0.1:5000")));
        assertEquals("[::1]:5000", UpstreamRouter.namespaceOf(URI.create("http://[::1]:5000")));
    }
}
