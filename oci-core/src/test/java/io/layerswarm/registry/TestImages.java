package io.layerswarm.registry;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageConfig;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.testing.TestTar;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Builds small synthetic images (random layer bytes, a matching config and manifest) for tests. */
final class TestImages {
    private TestImages() {
    }

    /** A blob with its descriptor. */
    record Blob(byte[] data, Descriptor descriptor) {
        Digest digest() {
            return descriptor.digest();
        }
    }

    /** An image: config, layers and the manifest tying them. */
    record Image(Blob config, List<Blob> layers, ImageManifest manifest) {
        byte[] manifestBytes() {
            return manifest.toJson();
        }
    }

    static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static Blob blob(String mediaType, byte[] data) {
        return new Blob(data, Descriptor.of(mediaType, Digest.sha256(data), data.length));
    }

    /** An image whose layers are gzip'd tars holding one file of {@code layerSizes[i]} random bytes each. */
    static Image image(long seed, String arch, int... layerSizes) {
        List<Blob> layers = new ArrayList<>();
        List<Digest> diffIds = new ArrayList<>();
        for (int i = 0; i < layerSizes.length; i++) {
            byte[] tar = TestTar.tar("file-" + seed + "-" + i, random(seed * 31 + i, layerSizes[i]));
            layers.add(blob(MediaTypes.OCI_LAYER_GZIP, TestTar.gzip(tar)));
            diffIds.add(Digest.sha256(tar));
        }
        ImageConfig cfg = new ImageConfig(arch, "linux", null, "2024-01-01T00:00:00Z",
                "{\"Env\":[\"SEED=" + seed + "\"]}", diffIds,
                List.of(new ImageConfig.History("2024-01-01T00:00:00Z", "test seed " + seed, null, null, false)));
        Blob config = blob(MediaTypes.OCI_CONFIG, cfg.toJson());
        ImageManifest m = ImageManifest.oci(config.descriptor(), layers.stream().map(Blob::descriptor).toList());
        return new Image(config, layers, m);
    }
}
