package io.layerswarm.nat.netns;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageConfig;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.testing.TestTar;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Pushes a small test image to a registry this JVM reaches (started inside the registry's namespace by
 * {@link NatClouds}): {@code PushImage REGISTRY-URL REPO TAG LAYERS LAYER-BYTES [SEED]}, layers of random
 * (incompressible) file content from SEED (default 7; another seed, other layers), gzipped. Prints
 * {@code pushed BLOB-BYTES} (layers plus config).
 */
public final class PushImage {
    private PushImage() {
    }

    public static void main(String[] args) throws Exception {
        RegistryClient c = RegistryClient.builder(URI.create(args[0])).build();
        String repo = args[1];
        int layers = Integer.parseInt(args[3]);
        int size = Integer.parseInt(args[4]);
        Random rnd = new Random(args.length > 5 ? Long.parseLong(args[5]) : 7);
        List<Descriptor> layerDescs = new ArrayList<>();
        List<Digest> diffIds = new ArrayList<>();
        long blobBytes = 0;
        for (int i = 0; i < layers; i++) {
            byte[] content = new byte[size];
            rnd.nextBytes(content);
            byte[] tar = TestTar.tar("layer-" + i + ".bin", content);
            byte[] layer = TestTar.gzip(tar);
            Descriptor d = Descriptor.of(MediaTypes.OCI_LAYER_GZIP, Digest.sha256(layer), layer.length);
            c.pushBlob(repo, d.digest(), layer);
            layerDescs.add(d);
            diffIds.add(Digest.sha256(tar));
            blobBytes += layer.length;
        }
        byte[] config = new ImageConfig("amd64", "linux", null, null, "{}", diffIds, List.of()).toJson();
        Descriptor configDesc = Descriptor.of(MediaTypes.OCI_CONFIG, Digest.sha256(config), config.length);
        c.pushBlob(repo, configDesc.digest(), config);
        blobBytes += config.length;
        ImageManifest m = ImageManifest.oci(configDesc, layerDescs);
        c.putManifest(repo, args[2], m.toJson(), MediaTypes.OCI_MANIFEST);
        System.out.println("pushed " + blobBytes);
        System.exit(0);
    }
}
