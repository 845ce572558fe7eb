package io.layerswarm.registry;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageConfig;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.MediaTypes;
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

    /** A real tar (one regular file of random bytes), as OCI layers are. */
    static byte[] tar(String name, byte[] content) {
        byte[] header = new byte[512];
        putAscii(header, 0, name);
        putAscii(header, 100, "0000644");
        putAscii(header, 108, "0000000");
        putAscii(header, 116, "0000000");
        putAscii(header, 124, String.format("%011o", content.length));
        putAscii(header, 136, String.format("%011o", 1_700_000_000L));
        header[156] = '0';
        putAscii(header, 257, "ustar");
        putAscii(header, 263, "00");
        java.util.Arrays.fill(header, 148, 156, (byte) ' ');
        int sum = 0;
        for (byte x : header) {
            sum += x & 0xff;
        }
        putAscii(header, 148, String.format("%06o", sum));
        header[154] = 0;
        int padded = (content.length + 511) / 512 * 512;
        byte[] out = new byte[512 + padded + 1024];
        System.arraycopy(header, 0, out, 0, 512);
        System.arraycopy(content, 0, out, 512, content.length);
        return out;
    }

    private static void putAscii(byte[] b, int off, String s) {
        byte[] a = s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(a, 0, b, off, a.length);
    }

    static byte[] gzip(byte[] data) {
        var bos = new java.io.ByteArrayOutputStream();
        try (var gz = new java.util.zip.GZIPOutputStream(bos)) {
            gz.write(data);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bos.toByteArray();
    }

    /** An image whose layers are gzip'd tars holding one file of {@code layerSizes[i]} random bytes each. */
    static Image image(long seed, String arch, int... layerSizes) {
        List<Blob> layers = new ArrayList<>();
        List<Digest> diffIds = new ArrayList<>();
        for (int i = 0; i < layerSizes.length; i++) {
            byte[] tar = tar("file-" + seed + "-" + i, random(seed * 31 + i, layerSizes[i]));
            layers.add(blob(MediaTypes.OCI_LAYER_GZIP, gzip(tar)));
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
