package io.layerswarm.node;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.ManifestResponse;
import java.time.Duration;
import java.util.List;

/**
 * An image {@link Node#pull pulled} into the node's store: its manifest and every blob it names are
 * committed (verified). Hand it to {@link Node#writeLayout} or {@link Node#unpack}.
 *
 * @param namespace the upstream it came through (host[:port])
 * @param repository the repository
 * @param reference the tag or digest asked for
 * @param platform the platform chosen from an index
 * @param manifest the platform's image manifest as stored (bytes, media type, digest)
 * @param elapsed time from resolve to the last blob committed
 */
public record PulledImage(String namespace, String repository, String reference, Platform platform,
                          ManifestResponse manifest, Duration elapsed) {

    /** The manifest's digest. */
    public Digest digest() {
        return manifest.digest();
    }

    /** The parsed image manifest. */
    public ImageManifest imageManifest() {
        return manifest.manifest();
    }

    /** Config then layers: every blob the image needs. */
    public List<Descriptor> blobs() {
        ImageManifest m = manifest.manifest();
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(m.config()), m.layers().stream()).toList();
    }

    /** Bytes of the config and layers. */
    public long blobBytes() {
        return blobs().stream().mapToLong(Descriptor::size).sum();
    }
}
