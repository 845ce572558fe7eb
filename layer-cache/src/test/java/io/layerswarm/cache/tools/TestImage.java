package io.layerswarm.cache.tools;

import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.MediaTypes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A one-layer linux/amd64 image built in a test and committed to a content store.
 *
 * @param manifest the image manifest
 * @param layerTar the uncompressed layer
 */
public record TestImage(ImageManifest manifest, byte[] layerTar) {

    /** Builds the image from a layer and ingests config and layer into {@code store}. */
    public static TestImage create(ContentStore store, TarBuilder layer) throws IOException {
        byte[] tar = layer.tar();
        byte[] gz = TarBuilder.gzip(tar);
        String config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + Digest.sha256(tar) + "\"]}}";
        byte[] cfg = config.getBytes(StandardCharsets.UTF_8);
        Descriptor cfgDesc = Descriptor.of(MediaTypes.OCI_CONFIG, Digest.sha256(cfg), cfg.length);
        Descriptor layerDesc = Descriptor.of(MediaTypes.OCI_LAYER_GZIP, Digest.sha256(gz), gz.length);
        store.ingest(cfgDesc.digest(), cfg.length, new ByteArrayInputStream(cfg));
        store.ingest(layerDesc.digest(), gz.length, new ByteArrayInputStream(gz));
        return new TestImage(ImageManifest.oci(cfgDesc, List.of(layerDesc)), tar);
    }

    /** The config and layer descriptors. */
    public List<Descriptor> blobs() {
        return List.of(manifest.config(), manifest.layers().get(0));
    }
}
