package io.layerswarm.refactor.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.MediaTypes;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Rewrites an image config for new layers and writes the OCI manifest. Everything of the original
 * config is kept (entrypoint, env, labels, ...) except {@code rootfs.diff_ids}, which lists the new
 * layers, and {@code history}, which gets one entry per new layer followed by the original
 * {@code empty_layer} entries, so that non-empty history entries match the layers one to one.
 */
public final class ImageAssembler {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A config and manifest ready to push. */
    public record Assembled(byte[] config, Digest configDigest, byte[] manifest, Digest manifestDigest) {
        /** The manifest's descriptor. */
        public Descriptor manifestDescriptor() {
            return Descriptor.of(MediaTypes.OCI_MANIFEST, manifestDigest, manifest.length);
        }
    }

    /** What a new layer is, for its history entry. */
    public record LayerInfo(BuiltLayer layer, String createdBy) {
    }

    private ImageAssembler() {
    }

    /**
     * Builds the new config and manifest.
     *
     * @param originalConfig the original config JSON
     * @param layers the new layers, bottom first
     * @param annotations manifest annotations (e.g. the source image)
     * @throws IOException if the original config is not a JSON object
     */
    public static Assembled assemble(byte[] originalConfig, List<LayerInfo> layers, Map<String, String> annotations)
            throws IOException {
        JsonNode parsed = JSON.readTree(originalConfig);
        if (!(parsed instanceof ObjectNode config)) {
            throw new IOException("image config is not a JSON object");
        }
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        ArrayNode diffIds = rootfs.putArray("diff_ids");
        for (LayerInfo l : layers) {
            diffIds.add(l.layer().diffId().toString());
        }
        JsonNode created = config.get("created");
        ArrayNode history = JSON.createArrayNode();
        for (LayerInfo l : layers) {
            ObjectNode h = history.addObject();
            if (created != null && created.isTextual()) {
                h.put("created", created.asText());
            }
            h.put("created_by", l.createdBy());
            h.put("comment", "layerswarm refactor");
        }
        JsonNode oldHistory = config.get("history");
        if (oldHistory instanceof ArrayNode arr) {
            for (JsonNode h : arr) {
                if (h.path("empty_layer").asBoolean(false)) {
                    history.add(h);
                }
            }
        }
        config.set("history", history);
        byte[] configBytes = JSON.writeValueAsBytes(config);
        Digest configDigest = Digest.sha256(configBytes);

        List<Descriptor> descriptors = new java.util.ArrayList<>();
        for (LayerInfo l : layers) {
            descriptors.add(l.layer().descriptor());
        }
        byte[] manifestBytes = new ImageManifest(MediaTypes.OCI_MANIFEST,
                Descriptor.of(MediaTypes.OCI_CONFIG, configDigest, configBytes.length), descriptors, annotations, null)
                .toJson();
        return new Assembled(configBytes, configDigest, manifestBytes, Digest.sha256(manifestBytes));
    }
}
