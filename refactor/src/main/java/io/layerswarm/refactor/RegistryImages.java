package io.layerswarm.refactor;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageConfig;
import io.layerswarm.oci.ImageReference;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.oci.Platform;
import io.layerswarm.refactor.build.BuiltLayer;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.registry.ResolvedImage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads images from a registry for the {@link Refactorer} and pushes refactored images back as new
 * tags ({@code TAG + suffix}) in their own repositories, leaving the original tags untouched. Blobs
 * already pushed to another repository are cross-repository mounted instead of uploaded again.
 */
public final class RegistryImages implements BlobSource {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryImages.class);

    private final RegistryClient client;
    private final Platform platform;
    private final Map<Digest, String> repositoryOf = new HashMap<>();

    /** Reads and writes through {@code client}, choosing {@code platform} from multi-platform indexes. */
    public RegistryImages(RegistryClient client, Platform platform) {
        this.client = Objects.requireNonNull(client, "client");
        this.platform = Objects.requireNonNull(platform, "platform");
    }

    /** What one push did. */
    public record Pushed(ImageReference target, Digest manifest, int uploaded, int mounted, int present) {
    }

    /**
     * Loads {@code repo:tag} (a registry host in the reference is ignored: this client's registry is used).
     *
     * @throws IOException if the image cannot be fetched or is malformed
     */
    public SourceImage load(ImageReference ref) throws IOException {
        String reference = ref.digest() != null ? ref.digest().toString() : ref.tag() == null ? "latest" : ref.tag();
        ResolvedImage img = client.resolveImage(ref.repository(), reference, platform);
        Descriptor cfg = img.manifest().config();
        byte[] config = client.fetchBlob(ref.repository(), cfg.digest(), ImageConfig.MAX_CONFIG_BYTES);
        ImageConfig parsed = ImageConfig.parse(config);
        if (parsed.diffIds().size() != img.manifest().layers().size()) {
            throw new IOException(ref + ": config lists " + parsed.diffIds().size() + " diff_ids for "
                    + img.manifest().layers().size() + " layers");
        }
        for (Descriptor l : img.manifest().layers()) {
            if (!MediaTypes.LAYERS.contains(l.mediaType())) {
                throw new IOException(ref + ": unsupported layer media type " + l.mediaType());
            }
            repositoryOf.putIfAbsent(l.digest(), ref.repository());
        }
        return new SourceImage(ref.repository() + ":" + reference, config, img.manifest().layers());
    }

    @Override
    public InputStream open(Descriptor blob) throws IOException {
        String repo = repositoryOf.get(blob.digest());
        if (repo == null) {
            throw new IOException("blob " + blob.digest() + " belongs to no loaded image");
        }
        return client.openBlob(repo, blob.digest(), blob.size());
    }

    /**
     * Pushes one refactored image as {@code source repo : source tag + suffix}.
     *
     * @param source the original reference (repository and tag)
     * @param image the refactored image
     * @param suffix appended to the tag, e.g. {@code -rf}
     */
    public Pushed push(ImageReference source, Refactorer.RefactoredImage image, String suffix) throws IOException {
        String tag = (source.tag() == null ? "latest" : source.tag()) + suffix;
        ImageReference target = new ImageReference(null, source.repository(), tag, null); // validates the tag
        String repo = source.repository();
        int uploaded = 0;
        int mounted = 0;
        int present = 0;
        for (BuiltLayer l : image.layers()) {
            if (client.blobExists(repo, l.digest())) {
                present++;
                continue;
            }
            String from = repositoryOf.get(l.digest());
            if (from != null && !from.equals(repo)) {
                if (client.mountOrPushBlob(repo, l.digest(), from, l.file())) {
                    mounted++;
                } else {
                    uploaded++;
                }
            } else {
                client.pushBlob(repo, l.digest(), l.file());
                uploaded++;
            }
            repositoryOf.putIfAbsent(l.digest(), repo);
        }
        if (!client.blobExists(repo, image.assembled().configDigest())) {
            client.pushBlob(repo, image.assembled().configDigest(), image.assembled().config());
        }
        Digest m = client.putManifest(repo, tag, image.assembled().manifest(), MediaTypes.OCI_MANIFEST);
        LOG.info("refactor.push target={} manifest={} uploaded={} mounted={} present={}", target, m.shortHex(12),
                uploaded, mounted, present);
        return new Pushed(target, m, uploaded, mounted, present);
    }

    /**
     * The explicit switch: points the original tag at the refactored manifest ({@code TAG + suffix}).
     * Until this is called the original tags are never touched.
     *
     * @return the manifest digest the original tag now names
     */
    public Digest switchTag(ImageReference source, String suffix) throws IOException {
        String tag = source.tag() == null ? "latest" : source.tag();
        var refactored = client.getManifest(source.repository(), tag + suffix);
        Digest d = client.putManifest(source.repository(), tag, refactored.bytes(), refactored.mediaType());
        LOG.info("refactor.switch repo={} tag={} from={} manifest={}", source.repository(), tag, tag + suffix, d.shortHex(12));
        return d;
    }

    /** Pushes every image of a result under {@code sources[i] tag + suffix}. */
    public List<Pushed> pushAll(List<ImageReference> sources, Refactorer.Result result, String suffix) throws IOException {
        if (sources.size() != result.images().size()) {
            throw new IllegalArgumentException(sources.size() + " sources for " + result.images().size() + " images");
        }
        List<Pushed> out = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            out.add(push(sources.get(i), result.images().get(i), suffix));
        }
        return out;
    }
}
