package io.layerswarm.oci;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An image manifest: OCI ({@code application/vnd.oci.image.manifest.v1+json}) or Docker schema 2
 * ({@code application/vnd.docker.distribution.manifest.v2+json}).
 *
 * <p>{@link #parse(byte[])} is strict: at most 4 MiB, schemaVersion 2, known media types only, every
 * digest and size validated. The digest of a manifest fetched from a registry is the digest of the
 * bytes received, not of {@link #toJson()}; {@code toJson()} is for manifests we build ourselves and
 * always yields the same bytes (hence the same digest) for the same content.
 *
 * @param mediaType {@link MediaTypes#OCI_MANIFEST} or {@link MediaTypes#DOCKER_MANIFEST}
 * @param config the image config blob
 * @param layers the layers, base first
 * @param annotations manifest annotations (OCI only)
 * @param subject the manifest this one refers to (OCI 1.1 referrers), or {@code null}
 */
public record ImageManifest(String mediaType, Descriptor config, List<Descriptor> layers,
                            Map<String, String> annotations, Descriptor subject) {

    /** Largest manifest or index accepted (4 MiB, what registries commonly enforce). */
    public static final int MAX_BYTES = OciJson.MAX_MANIFEST_BYTES;

    /** Validates and copies. */
    public ImageManifest {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(config, "config");
        if (!MediaTypes.IMAGE_MANIFESTS.contains(mediaType)) {
            throw new OciFormatException("unsupported manifest media type '" + mediaType + "'");
        }
        layers = List.copyOf(layers);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    /** An OCI manifest with no annotations or subject. */
    public static ImageManifest oci(Descriptor config, List<Descriptor> layers) {
        return new ImageManifest(MediaTypes.OCI_MANIFEST, config, layers, Map.of(), null);
    }

    /** Always 2. */
    public int schemaVersion() {
        return 2;
    }

    /**
     * Parses and validates a manifest.
     *
     * @throws OciFormatException if the bytes are not a valid, supported image manifest
     */
    public static ImageManifest parse(byte[] json) {
        JsonNode root = OciJson.readObject(json, OciJson.MAX_MANIFEST_BYTES, "image manifest");
        OciJson.requireSchemaVersion2(root, "image manifest");
        String mediaType = OciJson.string(root, "mediaType", "", false);
        if (mediaType == null) {
            // The OCI spec made mediaType mandatory late; older OCI manifests omit it.
            if (root.has("manifests")) {
                throw new OciFormatException("image manifest: this is an image index (has 'manifests'), not a manifest");
            }
            mediaType = MediaTypes.OCI_MANIFEST;
        } else if (!MediaTypes.IMAGE_MANIFESTS.contains(mediaType)) {
            throw new OciFormatException("image manifest: unsupported mediaType '" + OciJson.abbreviate(mediaType)
                    + "' (supported: " + MediaTypes.OCI_MANIFEST + ", " + MediaTypes.DOCKER_MANIFEST + ")");
        }
        Descriptor config = OciJson.descriptor(OciJson.object(root, "config", "", true), "config",
                MediaTypes.CONFIGS, "config");
        JsonNode layersNode = OciJson.array(root, "layers", "", true);
        List<Descriptor> layers = new ArrayList<>(layersNode.size());
        for (int i = 0; i < layersNode.size(); i++) {
            layers.add(OciJson.descriptor(layersNode.get(i), "layers[" + i + "]", MediaTypes.MANIFEST_LAYERS, "layer"));
        }
        Map<String, String> annotations = OciJson.stringMap(root, "annotations", "");
        JsonNode subjectNode = OciJson.field(root, "subject", "", false);
        Descriptor subject = subjectNode == null ? null
                : OciJson.descriptor(subjectNode, "subject", MediaTypes.MANIFESTS_AND_INDEXES, "subject");
        return new ImageManifest(mediaType, config, layers, annotations, subject);
    }

    /** Canonical JSON: fixed field order, no whitespace, sorted annotations. */
    public byte[] toJson() {
        return OciJson.writeObject(g -> {
            g.writeNumberField("schemaVersion", 2);
            g.writeStringField("mediaType", mediaType);
            OciJson.writeDescriptor(g, "config", config);
            OciJson.writeDescriptors(g, "layers", layers);
            if (subject != null) {
                OciJson.writeDescriptor(g, "subject", subject);
            }
            OciJson.writeAnnotations(g, annotations);
        });
    }

    /** The digest of {@link #toJson()}. */
    public Digest digest() {
        return Digest.sha256(toJson());
    }

    /** A descriptor for {@link #toJson()}, e.g. to put into an index. */
    public Descriptor descriptor(Platform platform) {
        byte[] json = toJson();
        return new Descriptor(mediaType, Digest.sha256(json), json.length, List.of(), Map.of(), platform);
    }

    /** Sum of the layer sizes. */
    public long totalLayerBytes() {
        long sum = 0;
        for (Descriptor d : layers) {
            sum += d.size();
        }
        return sum;
    }
}
