package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One node process mirroring two real docker-registries that hold different images under the same
 * repository name: skopeo (no {@code ?ns=}) gets the default upstream's image, a client naming the
 * second registry with {@code ?ns=} gets the second's, and a registry not configured is refused.
 */
class MultiUpstreamIT {
    private static final String REPO = "shared/app";
    private static final String ACCEPT = "application/vnd.oci.image.manifest.v1+json,"
            + "application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.index.v1+json";

    @TempDir
    Path tmp;
    private final Closer open = new Closer();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void tearDown() throws Exception {
        open.close();
    }

    @Test
    void eachRequestGoesToTheUpstreamItsNsNames() throws Exception {
        List<Corpus.Image> images = Corpus.small().images();
        assertTrue(images.size() >= 2, "the small corpus has two images");
        Corpus.Image x = images.get(0);
        Corpus.Image y = images.get(1);
        assertNotEquals(x.manifestDigest(), y.manifestDigest());
        RegistryFixture one = RegistryFixture.start(RegistryFixture.Mode.PLAIN);
        open.add(one);
        RegistryFixture two = RegistryFixture.start(RegistryFixture.Mode.PLAIN);
        open.add(two);
        NodeProcess.run(120, "skopeo", "copy", "-q", "--dest-tls-verify=false", x.ociReference(),
                "docker://" + one.hostPort() + "/" + REPO + ":v1");
        NodeProcess.run(120, "skopeo", "copy", "-q", "--dest-tls-verify=false", y.ociReference(),
                "docker://" + two.hostPort() + "/" + REPO + ":v1");

        NodeProcess node = NodeProcess.start("multi", tmp.resolve("node"), one.baseUri().toString(),
                List.of("--upstream", two.baseUri().toString()));
        open.add(node);
        String mirror = "http://" + node.mirror;

        // skopeo, no ns: the default (first) upstream's image
        Path layout = tmp.resolve("pulled");
        NodeProcess.run(300, "skopeo", "copy", "-q", "--src-tls-verify=false",
                "docker://" + node.mirror + "/" + REPO + ":v1", "oci:" + layout + ":v1");
        String index = Files.readString(layout.resolve("index.json"));
        assertTrue(index.contains(x.manifestDigest()), "skopeo got the first registry's image: " + index);
        for (Corpus.Layer l : x.layers()) {
            assertTrue(Files.isRegularFile(layout.resolve("blobs/sha256").resolve(l.digest().substring(7))), l.digest());
        }

        // ns names the second registry: its image, every byte verified here
        String ns = "?ns=" + two.hostPort();
        long before = two.blobBytesServed().values().stream().mapToLong(Long::longValue).sum();
        HttpResponse<byte[]> m = get(mirror + "/v2/" + REPO + "/manifests/v1" + ns);
        assertEquals(200, m.statusCode(), new String(m.body()));
        assertEquals(y.manifestDigest(), sha256(m.body()));
        List<String> blobs = new ArrayList<>(List.of(y.configDigest()));
        y.layers().forEach(l -> blobs.add(l.digest()));
        for (String d : blobs) {
            HttpResponse<byte[]> b = get(mirror + "/v2/" + REPO + "/blobs/" + d + ns);
            assertEquals(200, b.statusCode(), d);
            assertEquals(d, sha256(b.body()));
        }
        long layerBytes = y.layers().stream().mapToLong(Corpus.Layer::size).sum();
        long fromTwo = two.blobBytesServed().values().stream().mapToLong(Long::longValue).sum() - before;
        assertTrue(fromTwo >= layerBytes - sharedBytes(x, y), "registry two served its layers: " + fromTwo);
        // the same tag with ns naming the first registry (by its explicit host:port) is x again
        assertEquals(x.manifestDigest(),
                sha256(get(mirror + "/v2/" + REPO + "/manifests/v1?ns=" + one.hostPort()).body()));

        // a registry this node has no upstream for: refused without contacting it
        HttpResponse<byte[]> unknown = get(mirror + "/v2/" + REPO + "/manifests/v1?ns=registry.example.com");
        assertEquals(404, unknown.statusCode());
        assertTrue(new String(unknown.body()).contains("NAME_UNKNOWN"), new String(unknown.body()));
        HttpResponse<byte[]> garbage = get(mirror + "/v2/" + REPO + "/manifests/v1?ns=a/b@c");
        assertEquals(404, garbage.statusCode());
        assertTrue(new String(garbage.body()).contains("NAME_INVALID"), new String(garbage.body()));
        // the output is read by a thread of its own: await the lines rather than look once
        node.awaitEvent(l -> l.contains("event=blob_served ns=" + two.hostPort()), 30); // served lines name the upstream
        String onlyInY = y.layers().stream().map(Corpus.Layer::digest)
                .filter(d -> x.layers().stream().noneMatch(l -> l.digest().equals(d))).findFirst().orElseThrow();
        node.awaitEvent(l -> l.contains("event=blob_fetched ns=" + two.hostPort()) && l.contains(onlyInY), 30);
        assertEquals(143, node.stop(), "exits on SIGTERM");
    }

    /** Layers both images share (the store is content-addressed: a shared layer is fetched once). */
    private static long sharedBytes(Corpus.Image x, Corpus.Image y) {
        return y.layers().stream().filter(l -> x.layers().stream().anyMatch(o -> o.digest().equals(l.digest())))
                .mapToLong(Corpus.Layer::size).sum();
    }

    private HttpResponse<byte[]> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Accept", ACCEPT).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String sha256(byte[] b) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
