package io.layerswarm.oci;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The parts of an image config ({@code application/vnd.oci.image.config.v1+json} or Docker's
 * equivalent) this project uses. The runtime {@code config} section is kept as raw JSON text
 * because only the runtime interprets it.
 *
 * @param architecture CPU architecture, e.g. {@code amd64}
 * @param os operating system, e.g. {@code linux}
 * @param variant CPU variant, or {@code null}
 * @param created creation time as written (RFC 3339), or {@code null}
 * @param config the runtime config section as compact JSON text, or {@code null} if absent
 * @param diffIds digests of the uncompressed layers, base first ({@code rootfs.diff_ids})
 * @param history build history entries
 */
public record ImageConfig(String architecture, String os, String variant, String created, String config,
                          List<Digest> diffIds, List<History> history) {

    /** Config blobs are larger than manifests in practice (long histories); still bounded. */
    public static final int MAX_CONFIG_BYTES = 8 * 1024 * 1024;

    /**
     * One {@code history} entry.
     *
     * @param created creation time text, or {@code null}
     * @param createdBy the command that created the layer, or {@code null}
     * @param author author, or {@code null}
     * @param comment comment, or {@code null}
     * @param emptyLayer whether this step produced no layer
     */
    public record History(String created, String createdBy, String author, String comment, boolean emptyLayer) {
    }

    /** Validates and copies. */
    public ImageConfig {
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(os, "os");
        diffIds = List.copyOf(diffIds);
        history = history == null ? List.of() : List.copyOf(history);
        if (config != null && !OciJson.readTree(config).isObject()) {
            throw new OciFormatException("config: expected a JSON object");
        }
    }

    /** The platform this config is for. */
    public Platform platform() {
        return new Platform(os, architecture, variant);
    }

    /**
     * Parses and validates an image config.
     *
     * @throws OciFormatException if the bytes are not a valid image config
     */
    public static ImageConfig parse(byte[] json) {
        JsonNode root = OciJson.readObject(json, MAX_CONFIG_BYTES, "image config");
        String architecture = OciJson.string(root, "architecture", "", true);
        String os = OciJson.string(root, "os", "", true);
        String variant = OciJson.string(root, "variant", "", false);
        String created = OciJson.string(root, "created", "", false);
        JsonNode cfg = OciJson.object(root, "config", "", false);
        JsonNode rootfs = OciJson.object(root, "rootfs", "", true);
        String type = OciJson.string(rootfs, "type", "rootfs.", true);
        if (!type.equals("layers")) {
            throw new OciFormatException("rootfs.type: must be 'layers', got '" + OciJson.abbreviate(type) + "'");
        }
        JsonNode ids = OciJson.array(rootfs, "diff_ids", "rootfs.", true);
        List<Digest> diffIds = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            JsonNode n = ids.get(i);
            if (!n.isTextual()) {
                throw new OciFormatException("rootfs.diff_ids[" + i + "]: expected a digest string, got " + n.getNodeType());
            }
            try {
                diffIds.add(Digest.parse(n.textValue()));
            } catch (IllegalArgumentException e) {
                throw new OciFormatException("rootfs.diff_ids[" + i + "]: " + e.getMessage(), e);
            }
        }
        List<History> history = new ArrayList<>();
        JsonNode hist = OciJson.array(root, "history", "", false);
        if (hist != null) {
            for (int i = 0; i < hist.size(); i++) {
                JsonNode h = hist.get(i);
                String p = "history[" + i + "].";
                if (!h.isObject()) {
                    throw new OciFormatException("history[" + i + "]: expected an object, got " + h.getNodeType());
                }
                JsonNode empty = OciJson.field(h, "empty_layer", p, false);
                if (empty != null && !empty.isBoolean()) {
                    throw new OciFormatException(p + "empty_layer: expected a boolean, got " + empty.getNodeType());
                }
                history.add(new History(OciJson.string(h, "created", p, false), OciJson.string(h, "created_by", p, false),
                        OciJson.string(h, "author", p, false), OciJson.string(h, "comment", p, false),
                        empty != null && empty.booleanValue()));
            }
        }
        return new ImageConfig(architecture, os, variant, created,
                cfg == null ? null : OciJson.writeTreeAsString(cfg), diffIds, history);
    }

    /** Canonical JSON (fixed field order, no whitespace). */
    public byte[] toJson() {
        return OciJson.writeObject(g -> {
            if (created != null) {
                g.writeStringField("created", created);
            }
            g.writeStringField("architecture", architecture);
            if (variant != null) {
                g.writeStringField("variant", variant);
            }
            g.writeStringField("os", os);
            if (config != null) {
                g.writeFieldName("config");
                OciJson.writeTree(g, OciJson.readTree(config));
            }
            g.writeObjectFieldStart("rootfs");
            g.writeStringField("type", "layers");
            g.writeArrayFieldStart("diff_ids");
            for (Digest d : diffIds) {
                g.writeString(d.toString());
            }
            g.writeEndArray();
            g.writeEndObject();
            if (!history.isEmpty()) {
                g.writeArrayFieldStart("history");
                for (History h : history) {
                    g.writeStartObject();
                    if (h.created() != null) {
                        g.writeStringField("created", h.created());
                    }
                    if (h.createdBy() != null) {
                        g.writeStringField("created_by", h.createdBy());
                    }
                    if (h.author() != null) {
                        g.writeStringField("author", h.author());
                    }
                    if (h.comment() != null) {
                        g.writeStringField("comment", h.comment());
                    }
                    if (h.emptyLayer()) {
                        g.writeBooleanField("empty_layer", true);
                    }
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
        });
    }
}
