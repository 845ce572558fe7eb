package io.layerswarm.daemon.demo;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.ImageIndex;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.OciFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo image bundled in the jar ({@code /demo-image/}, an OCI layout), copied out to a directory.
 * The resource tree cannot be listed inside a jar, so the copy follows the index: index, manifests,
 * then every config and layer they name. Blobs are verified when the layout is served.
 */
public final class DemoImage {
    private static final String ROOT = "/demo-image/";
    private static final int MAX_JSON = 4 * 1024 * 1024;

    private DemoImage() {
    }

    /** Copies the bundled layout into {@code dir} (created) and returns {@code dir}. */
    public static Path extractTo(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("blobs/sha256"));
        copy("oci-layout", dir);
        byte[] indexJson = copy("index.json", dir);
        try {
            List<Descriptor> blobs = new ArrayList<>();
            for (Descriptor m : ImageIndex.parse(indexJson).manifests()) {
                ImageManifest manifest = ImageManifest.parse(copy(blobPath(m), dir));
                blobs.add(manifest.config());
                blobs.addAll(manifest.layers());
            }
            for (Descriptor d : blobs) {
                copy(blobPath(d), dir);
            }
        } catch (OciFormatException e) {
            throw new IOException("bundled demo image is malformed: " + e.getMessage(), e);
        }
        return dir;
    }

    private static String blobPath(Descriptor d) {
        return "blobs/" + d.digest().algorithm().label() + "/" + d.digest().hex();
    }

    /** Copies one resource; returns its bytes if small (manifests), else an empty array. */
    private static byte[] copy(String name, Path dir) throws IOException {
        try (InputStream in = DemoImage.class.getResourceAsStream(ROOT + name)) {
            if (in == null) {
                throw new IOException("resource " + ROOT + name + " is missing from the jar");
            }
            Path target = dir.resolve(name);
            Files.copy(in, target);
            return Files.size(target) <= MAX_JSON ? Files.readAllBytes(target) : new byte[0];
        }
    }
}
