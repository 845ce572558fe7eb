package io.layerswarm.daemon.bench;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.OciFormatException;
import io.layerswarm.testing.Corpus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
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

    /** The image a manifest's bytes describe (parsed by the project's one manifest parser); its digest is the bytes' sha256. */
    static RegistryImage parse(String name, String tag, byte[] manifest) throws IOException {
        ImageManifest m;
        try {
            m = ImageManifest.parse(manifest);
        } catch (OciFormatException e) {
            throw new IOException(name + ":" + tag + ": " + e.getMessage(), e);
        }
        List<Corpus.Layer> layers = m.layers().stream()
                .map(d -> new Corpus.Layer(d.digest().toString(), d.size(), null, d.mediaType(), "", List.of()))
                .toList();
        long config = m.config().size();
        return new RegistryImage(new Corpus.Image(name, tag, null, Digest.sha256(manifest).toString(),
                manifest.length, m.config().digest().toString(), m.totalLayerBytes() + config, layers), config);
    }
}
