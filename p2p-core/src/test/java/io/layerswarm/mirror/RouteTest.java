package io.layerswarm.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RouteTest {
    private static final String D = "sha256:" + "ab".repeat(32);

    @Test
    void parsesTheThreeRoutes() {
        assertInstanceOf(Route.Base.class, Route.parse("/v2/"));
        assertEquals(new Route.Manifest("library/debian", "bookworm-slim"),
                Route.parse("/v2/library/debian/manifests/bookworm-slim"));
        assertEquals(new Route.Manifest("a/b", D), Route.parse("/v2/a/b/manifests/" + D));
        assertEquals(new Route.Blob("a", Digest.parse(D)), Route.parse("/v2/a/blobs/" + D + "?ns=docker.io"));
        // a repository may itself contain a component called "blobs"
        assertEquals(new Route.Blob("x/blobs", Digest.parse(D)), Route.parse("/v2/x/blobs/blobs/" + D));
    }

    @Test
    void rejectsHostilePaths() {
        for (String bad : new String[] {"/", "/v1/", "/v2/../etc/passwd/blobs/" + D, "/v2/a/blobs/../../x",
                "/v2/A/manifests/t", "/v2/a/manifests/.hidden", "/v2/a/manifests/", "/v2/a/blobs/md5:00",
                "/v2//manifests/t", "/v2/a/manifests/" + "t".repeat(200), "/v2/" + "a/".repeat(600) + "blobs/" + D,
                "/v2/a/tags/list", "/v2/a%2Fb/manifests/t"}) {
            assertThrows(IllegalArgumentException.class, () -> Route.parse(bad), bad);
        }
        Random r = new Random(7);
        for (int i = 0; i < 2000; i++) {
            byte[] b = new byte[r.nextInt(80)];
            r.nextBytes(b);
            String s = "/v2/" + new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
            try {
                Route.parse(s);
            } catch (IllegalArgumentException expected) {
                // the only failure mode allowed for garbage
            }
        }
    }

    @Test
    void namespaceIsTheRegistryHostOrNothing() {
        assertEquals(java.util.Optional.empty(), Route.namespace("/v2/a/blobs/" + D));
        assertEquals(java.util.Optional.empty(), Route.namespace("/v2/a/blobs/" + D + "?x=1"));
        assertEquals(java.util.Optional.of("docker.io"), Route.namespace("/v2/a/blobs/" + D + "?ns=Docker.IO"));
        assertEquals(java.util.Optional.of("127.0.0.1:5000"), Route.namespace("/v2/?a=b&ns=127.0.0.1%3A5000"));
        assertEquals(java.util.Optional.of("[::1]:5000"), Route.namespace("/v2/?ns=[::1]:5000"));
        for (String bad : new String[] {"?ns=", "?ns=a/b", "?ns=evil.com@x", "?ns=a:99999999", "?ns=%zz",
                "?ns=a&ns=b", "?ns=" + "a".repeat(300), "?ns=-a", "?ns=a..b", "?ns=a b", "?ns=http://x"}) {
            assertThrows(IllegalArgumentException.class, () -> Route.namespace("/v2/" + bad), bad);
        }
        Random r = new Random(11);
        for (int i = 0; i < 2000; i++) {
            byte[] b = new byte[r.nextInt(300)];
            r.nextBytes(b);
            String s = "/v2/?ns=" + new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
            try {
                java.util.Optional<String> ns = Route.namespace(s);
                assertTrue(ns.isEmpty() || Route.NAMESPACE.matcher(ns.get()).matches(), s);
            } catch (IllegalArgumentException expected) {
                // the only failure mode allowed for garbage
            }
        }
    }

    @Test
    void rangesFollowRfc9110() throws Exception {
        assertEquals(new ByteRange(0, 10), ByteRange.parse("bytes=0-9", 100));
        assertEquals(new ByteRange(90, 10), ByteRange.parse("bytes=90-", 100));
        assertEquals(new ByteRange(90, 10), ByteRange.parse("bytes=90-500", 100));
        assertEquals(new ByteRange(70, 30), ByteRange.parse("bytes=-30", 100));
        assertEquals(new ByteRange(0, 100), ByteRange.parse("bytes=-300", 100));
        assertNull(ByteRange.parse(null, 100));
        assertNull(ByteRange.parse("bytes=0-1,5-6", 100));
        assertNull(ByteRange.parse("items=0-1", 100));
        for (String bad : new String[] {"bytes=100-", "bytes=5-2", "bytes=x-1", "bytes=", "bytes=-0", "bytes=-1-2",
                "bytes=99999999999999999999-"}) {
            assertThrows(ByteRange.Unsatisfiable.class, () -> ByteRange.parse(bad, 100), bad);
        }
    }
}
