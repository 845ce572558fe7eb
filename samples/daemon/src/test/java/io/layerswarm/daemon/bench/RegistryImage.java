package io.layerswarm.daemon.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.testing.Corpus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * An image the testbed knows only from a registry (the refactored ones, which have no local layout): its
 * manifest, read once, as a {@link Corpus.Image} without a layout directory, and its config blob's size.
 *
 * @param image name, tag, manifest digest and size, config digest, layers (digest, size, media type)
 * @param configSize the config blob's size
 */
record RegistryImage(Corpus.Image image, long configSize) {
    private static final String ACCEPT = "application/vnd.oci.image.manifest.v1+json,"
            + "application/vnd.docker.distribution.manifest.v2+json";

    /** Reads {@code name:tag}'s manifest from {@code registryUrl} ({@code http://host:port}); an index is refused. */
    static RegistryImage read(String registryUrl, String name, String tag) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(registryUrl + "/v2/" + name + "/manifests/" + tag))
                .timeout(Duration.ofSeconds(30)).header("Accept", ACCEPT).GET().build();
        HttpResponse<byte[]> r = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IOException("manifest " + name + ":" + tag + ": HTTP " + r.statusCode());
        }
        return parse(name, tag, r.body());
    }

    /** The image a manifest's bytes describe; its digest is the bytes' sha256. */
    static RegistryImage parse(String name, String tag, byte[] manifest) throws IOException {
        JsonNode m = new ObjectMapper().readTree(manifest);
        if (m == null || !m.path("layers").isArray() || !m.path("config").path("digest").isTextual()) {
            throw new IOException("not an image manifest: " + name + ":" + tag);
        }
        List<Corpus.Layer> layers = new ArrayList<>();
        long total = 0;
        for (JsonNode l : m.get("layers")) {
            if (!l.path("digest").isTextual() || !l.path("size").canConvertToLong() || l.path("size").asLong() < 0) {
                throw new IOException("bad layer descriptor in " + name + ":" + tag + ": " + l);
            }
            layers.add(new Corpus.Layer(l.get("digest").asText(), l.get("size").asLong(), null,
                    l.path("mediaType").asText(""), "", List.of()));
            total += l.get("size").asLong();
        }
        long config = m.get("config").path("size").asLong(-1);
        if (config < 0) {
            throw new IOException("bad config descriptor in " + name + ":" + tag);
        }
        String digest;
        try {
            digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(manifest));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return new RegistryImage(new Corpus.Image(name, tag, null, digest, manifest.length,
                m.get("config").get("digest").asText(), total + config, layers), config);
    }
}
