package io.layerswarm.mirror;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.MediaTypes;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The read-side server against independent clients: the real skopeo and the JDK HTTP client. */
class DistributionServerIT {
    @TempDir
    static Path tmp;
    static DistributionServer server;
    static byte[] layer;
    static Digest layerDigest;
    static ManifestContent manifest;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        // A layer of real files from the machine's Debian packages, packed by GNU tar.
        Path layerFile = tmp.resolve("layer.tar.gz");
        run(List.of("tar", "-czf", layerFile.toString(), "-C", "/", "etc/os-release", "usr/bin/true"));
        layer = Files.readAllBytes(layerFile);
        layerDigest = Digest.sha256(layer);
        // diff_id is the digest of the uncompressed tar
        Path rawTar = tmp.resolve("layer.tar");
        run(List.of("sh", "-c", "gzip -dc '" + layerFile + "' > '" + rawTar + "'"));
        Digest diffId = Digest.sha256(Files.readAllBytes(rawTar));
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
                + diffId + "\"]},\"config\":{}}").getBytes(StandardCharsets.UTF_8);
        Digest configDigest = Digest.sha256(config);
        byte[] m = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\""
                + MediaTypes.OCI_CONFIG + "\",\"digest\":\"" + configDigest + "\",\"size\":" + config.length
                + "},\"layers\":[{\"mediaType\":\"" + MediaTypes.OCI_LAYER_GZIP + "\",\"digest\":\"" + layerDigest
                + "\",\"size\":" + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
        manifest = ManifestContent.of(m, MediaTypes.OCI_MANIFEST);
        Map<Digest, byte[]> blobs = new HashMap<>();
        blobs.put(layerDigest, layer);
        blobs.put(configDigest, config);
        Path layerOnDisk = Files.write(tmp.resolve("blob"), layer);
        server = DistributionServer.start(new InetSocketAddress("127.0.0.1", 0), new ContentProvider() {
            @Override
            public Optional<ManifestContent> manifest(String repository, String reference, List<String> accept) {
                boolean known = repository.equals("demo/app")
                        && (reference.equals("1.0") || reference.equals(manifest.digest().toString()));
                return known ? Optional.of(manifest) : Optional.empty();
            }

            @Override
            public Optional<BlobContent> blob(String repository, Digest digest) {
                if (digest.equals(layerDigest)) {
                    return Optional.of(BlobContent.ofFile(layerOnDisk, layer.length));
                }
                return Optional.ofNullable(blobs.get(digest)).map(BlobContent::ofBytes);
            }
        });
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void skopeoCopiesAnImageThroughTheServer() throws Exception {
        Path out = tmp.resolve("copied");
        run(List.of("skopeo", "copy", "--src-tls-verify=false",
                "docker://" + server.url().substring("http://".length()) + "/demo/app:1.0", "oci:" + out + ":1.0"));
        byte[] copied = Files.readAllBytes(out.resolve("blobs/sha256/" + layerDigest.hex()));
        assertArrayEquals(layer, copied);
        JsonNode inspect = new ObjectMapper().readTree(run(List.of("skopeo", "inspect", "--raw", "oci:" + out + ":1.0")));
        assertEquals(layerDigest.toString(), inspect.path("layers").path(0).path("digest").asText());
    }

    @Test
    void servesRangesHeadAndErrors() throws Exception {
        String base = server.url() + "/v2/demo/app/";
        HttpResponse<byte[]> part = http.send(HttpRequest.newBuilder(URI.create(base + "blobs/" + layerDigest))
                .header("Range", "bytes=10-99").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(206, part.statusCode());
        assertArrayEquals(Arrays.copyOfRange(layer, 10, 100), part.body());
        assertEquals("bytes 10-99/" + layer.length, part.headers().firstValue("Content-Range").orElseThrow());

        HttpResponse<byte[]> bad = http.send(HttpRequest.newBuilder(URI.create(base + "blobs/" + layerDigest))
                .header("Range", "bytes=" + layer.length + "-").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(416, bad.statusCode());

        HttpResponse<Void> head = http.send(HttpRequest.newBuilder(URI.create(base + "manifests/1.0"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(200, head.statusCode());
        assertEquals(manifest.digest().toString(), head.headers().firstValue("Docker-Content-Digest").orElseThrow());

        HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(URI.create(base + "manifests/nope")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, unknown.statusCode());
        assertTrue(unknown.body().contains("MANIFEST_UNKNOWN"), unknown.body());

        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(base + "manifests/1.0"))
                .PUT(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, put.statusCode());

        HttpResponse<String> traversal = http.send(HttpRequest.newBuilder(
                URI.create(server.url() + "/v2/demo/..%2f..%2fetc/blobs/" + layerDigest)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, traversal.statusCode());
        assertTrue(traversal.body().contains("NAME_INVALID"), traversal.body());
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed:\n" + out);
        }
        return out;
    }
}
