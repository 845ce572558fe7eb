package io.layerswarm.oci;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A multi-platform image: OCI image index or Docker manifest list.
 *
 * @param mediaType {@link MediaTypes#OCI_INDEX} or {@link MediaTypes#DOCKER_MANIFEST_LIST}
 * @param manifests the entries, each usually with a platform
 * @param annotations index annotations
 * @param subject the manifest this index refers to, or {@code null}
 */
public record ImageIndex(String mediaType, List<Descriptor> manifests, Map<String, String> annotations,
                         Descriptor subject) {

    /** Validates and copies. */
    public ImageIndex {
        Objects.requireNonNull(mediaType, "mediaType");
        if (!MediaTypes.INDEXES.contains(mediaType)) {
            throw new OciFormatException("unsupported index media type '" + mediaType + "'");
        }
        manifests = List.copyOf(manifests);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    /** An OCI index of the given entries. */
    public static ImageIndex oci(List<Descriptor> manifests) {
        return new ImageIndex(MediaTypes.OCI_INDEX, manifests, Map.of(), null);
    }

    /** Always 2. */
    public int schemaVersion() {
        return 2;
    }

    /**
     * Parses and validates an index or manifest list.
     *
     * @throws OciFormatException if the bytes are not a valid, supported index
     */
    public static ImageIndex parse(byte[] json) {
        JsonNode root = OciJson.readObject(json, OciJson.MAX_MANIFEST_BYTES, "image index");
        OciJson.requireSchemaVersion2(root, "image index");
        String mediaType = OciJson.string(root, "mediaType", "", false);
        if (mediaType == null) {
            if (root.has("layers")) {
                throw new OciFormatException("image index: this is an image manifest (has 'layers'), not an index");
            }
            mediaType = MediaTypes.OCI_INDEX;
        } else if (!MediaTypes.INDEXES.contains(mediaType)) {
            throw new OciFormatException("image index: unsupported mediaType '" + OciJson.abbreviate(mediaType)
                    + "' (supported: " + MediaTypes.OCI_INDEX + ", " + MediaTypes.DOCKER_MANIFEST_LIST + ")");
        }
        JsonNode list = OciJson.array(root, "manifests", "", true);
        List<Descriptor> manifests = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            manifests.add(OciJson.descriptor(list.get(i), "manifests[" + i + "]", MediaTypes.MANIFESTS_AND_INDEXES,
                    "index entry"));
        }
        Map<String, String> annotations = OciJson.stringMap(root, "annotations", "");
        JsonNode subjectNode = OciJson.field(root, "subject", "", false);
        Descriptor subject = subjectNode == null ? null
                : OciJson.descriptor(subjectNode, "subject", MediaTypes.MANIFESTS_AND_INDEXES, "subject");
        return new ImageIndex(mediaType, manifests, annotations, subject);
    }

    /** Canonical JSON: fixed field order, no whitespace, sorted annotations. */
    public byte[] toJson() {
        return OciJson.writeObject(g -> {
            g.writeNumberField("schemaVersion", 2);
            g.writeStringField("mediaType", mediaType);
            OciJson.writeDescriptors(g, "manifests", manifests);
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

    /**
     * The entry for a platform. OS and architecture must match exactly. If {@code wanted} names a
     * variant, the entry's variant must match (arm64's implicit {@code v8} counts as no variant);
     * if not, an entry without variant is preferred, else the first match.
     */
    public Optional<Descriptor> select(Platform wanted) {
        Objects.requireNonNull(wanted, "platform");
        Descriptor fallback = null;
        for (Descriptor d : manifests) {
            Platform p = d.platform();
            if (p == null || !p.os().equals(wanted.os()) || !p.architecture().equals(wanted.architecture())) {
                continue;
            }
            String have = normalizedVariant(p);
            String want = normalizedVariant(wanted);
            if (want != null) {
                if (want.equals(have)) {
                    return Optional.of(d);
                }
            } else if (have == null) {
                return Optional.of(d);
            } else if (fallback == null) {
                fallback = d;
            }
        }
        return Optional.ofNullable(fallback);
    }

    private static String normalizedVariant(Platform p) {
        if (p.variant() == null || p.variant().isEmpty()) {
            return null;
        }
        return p.architecture().equals("arm64") && p.variant().equals("v8") ? null : p.variant();
    }
}
