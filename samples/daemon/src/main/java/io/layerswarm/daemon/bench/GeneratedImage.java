package io.layerswarm.daemon.bench;

import io.layerswarm.cache.layout.OciLayoutWriter;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.MediaTypes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * A single-layer image generated for a benchmark: one uncompressed tar layer holding one file of
 * seeded random bytes (incompressible, and the same on every run), written as an OCI layout.
 */
public final class GeneratedImage {
    /** The tag the image gets in the layout. */
    public static final String TAG = "v1";

    private GeneratedImage() {
    }

    /** Writes the image, a layer file of {@code fileBytes} random bytes, into the layout {@code dir}. */
    public static Path write(Path dir, int fileBytes) throws IOException {
        byte[] file = new byte[fileBytes];
        new Random(42).nextBytes(file);
        ByteArrayOutputStream tarBytes = new ByteArrayOutputStream(fileBytes + 4096);
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(tarBytes)) {
            TarArchiveEntry e = new TarArchiveEntry("big.bin");
            e.setSize(fileBytes);
            e.setModTime(0);
            tar.putArchiveEntry(e);
            tar.write(file);
            tar.closeArchiveEntry();
        }
        byte[] layer = tarBytes.toByteArray();
        Digest layerDigest = Digest.sha256(layer);
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
                + layerDigest + "\"]}}").getBytes(StandardCharsets.UTF_8);
        Digest configDigest = Digest.sha256(config);
        OciLayoutWriter w = OciLayoutWriter.create(dir);
        w.addBlob(layerDigest, layer);
        w.addBlob(configDigest, config);
        w.tag(ImageManifest.oci(Descriptor.of(MediaTypes.OCI_CONFIG, configDigest, config.length),
                List.of(Descriptor.of(MediaTypes.OCI_LAYER_TAR, layerDigest, layer.length))), TAG);
        w.commit();
        return dir;
    }
}
