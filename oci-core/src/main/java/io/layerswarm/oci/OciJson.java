package io.layerswarm.oci;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Strict JSON reading and canonical writing shared by the OCI document types. Reading rejects
 * duplicate keys, trailing garbage, deep nesting and absurd numbers before any field is looked at;
 * writing emits a fixed field order with no whitespace so that a document we build has a stable
 * digest.
 */
final class OciJson {
    /** Size limit for manifests and indexes (what registries commonly enforce). */
    static final int MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(64)
                            .maxNumberLength(64)
                            .maxStringLength(MAX_MANIFEST_BYTES)
                            .build())
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .build();

    private OciJson() {
    }

    /** Parses a document that must be a JSON object of at most {@code limit} bytes. */
    static JsonNode readObject(byte[] json, int limit, String what) {
        if (json == null) {
            throw new OciFormatException(what + ": no content");
        }
        if (json.length > limit) {
            throw new OciFormatException(what + " is " + json.length + " bytes, over the limit of " + limit + " bytes");
        }
        JsonNode node;
        try (JsonParser p = MAPPER.createParser(json)) {
            node = MAPPER.readTree(p);
        } catch (JsonProcessingException e) {
            throw new OciFormatException(what + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new OciFormatException(what + " could not be read: " + e.getMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new OciFormatException(what + " must be a JSON object");
        }
        return node;
    }

    static JsonNode field(JsonNode obj, String name, String path, boolean required) {
        JsonNode n = obj.get(name);
        if (n == null || n.isNull()) {
            if (required) {
                throw new OciFormatException(path + name + ": required field missing");
            }
            return null;
        }
        return n;
    }

    static String string(JsonNode obj, String name, String path, boolean required) {
        JsonNode n = field(obj, name, path, required);
        if (n == null) {
            return null;
        }
        if (!n.isTextual()) {
            throw new OciFormatException(path + name + ": expected a string, got " + n.getNodeType());
        }
        return n.textValue();
    }

    static long nonNegativeLong(JsonNode obj, String name, String path) {
        JsonNode n = field(obj, name, path, true);
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw new OciFormatException(path + name + ": expected an integer within 64 bits, got "
                    + (n.isNumber() ? "number " + abbreviate(n.asText()) : n.getNodeType()));
        }
        long v = n.longValue();
        if (v < 0) {
            throw new OciFormatException(path + name + ": must not be negative, got " + v);
        }
        return v;
    }

    static void requireSchemaVersion2(JsonNode obj, String what) {
        JsonNode n = field(obj, "schemaVersion", "", true);
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() != 2) {
            throw new OciFormatException(what + ": schemaVersion must be 2, got " + abbreviate(n.toString())
                    + (n.isIntegralNumber() && n.asInt() == 1 ? " (Docker schema 1 is not supported)" : ""));
        }
    }

    static Digest digest(JsonNode obj, String name, String path) {
        String s = string(obj, name, path, true);
        try {
            return Digest.parse(s);
        } catch (IllegalArgumentException e) {
            throw new OciFormatException(path + name + ": " + e.getMessage(), e);
        }
    }

    static Map<String, String> stringMap(JsonNode obj, String name, String path) {
        JsonNode n = field(obj, name, path, false);
        if (n == null) {
            return Map.of();
        }
        if (!n.isObject()) {
            throw new OciFormatException(path + name + ": expected an object of strings, got " + n.getNodeType());
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new OciFormatException(path + name + "." + abbreviate(e.getKey()) + ": expected a string, got "
                        + e.getValue().getNodeType());
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return out;
    }

    static List<String> stringList(JsonNode obj, String name, String path) {
        JsonNode n = field(obj, name, path, false);
        if (n == null) {
            return List.of();
        }
        if (!n.isArray()) {
            throw new OciFormatException(path + name + ": expected an array of strings, got " + n.getNodeType());
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            if (!n.get(i).isTextual()) {
                throw new OciFormatException(path + name + "[" + i + "]: expected a string, got " + n.get(i).getNodeType());
            }
            out.add(n.get(i).textValue());
        }
        return out;
    }

    static JsonNode array(JsonNode obj, String name, String path, boolean required) {
        JsonNode n = field(obj, name, path, required);
        if (n != null && !n.isArray()) {
            throw new OciFormatException(path + name + ": expected an array, got " + n.getNodeType());
        }
        return n;
    }

    static JsonNode object(JsonNode obj, String name, String path, boolean required) {
        JsonNode n = field(obj, name, path, required);
        if (n != null && !n.isObject()) {
            throw new OciFormatException(path + name + ": expected an object, got " + n.getNodeType());
        }
        return n;
    }

    /** Reads a descriptor whose media type must be one of {@code allowedTypes}. */
    static Descriptor descriptor(JsonNode n, String path, java.util.Set<String> allowedTypes, String role) {
        if (n == null || !n.isObject()) {
            throw new OciFormatException(path + ": expected a descriptor object, got "
                    + (n == null ? "nothing" : n.getNodeType()));
        }
        String p = path + ".";
        String mediaType = string(n, "mediaType", p, true);
        if (!allowedTypes.contains(mediaType)) {
            throw new OciFormatException(p + "mediaType: unsupported " + role + " media type '"
                    + abbreviate(mediaType) + "' (supported: " + new java.util.TreeSet<>(allowedTypes) + ")");
        }
        Digest digest = digest(n, "digest", p);
        long size = nonNegativeLong(n, "size", p);
        List<String> urls = stringList(n, "urls", p);
        Map<String, String> annotations = stringMap(n, "annotations", p);
        Platform platform = null;
        JsonNode pn = object(n, "platform", p, false);
        if (pn != null) {
            String pp = p + "platform.";
            platform = new Platform(string(pn, "os", pp, true), string(pn, "architecture", pp, true),
                    string(pn, "variant", pp, false));
        }
        return new Descriptor(mediaType, digest, size, urls, annotations, platform);
    }

    static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    // ---- canonical writing ----

    /** A callback writing one JSON object's fields. */
    interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    /** Writes one JSON object, compactly, in the field order the callback uses. */
    static byte[] writeObject(Fields fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try (JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialize OCI document", e);
        }
        return out.toByteArray();
    }

    static void writeDescriptor(JsonGenerator g, String name, Descriptor d) throws IOException {
        if (name != null) {
            g.writeFieldName(name);
        }
        g.writeStartObject();
        g.writeStringField("mediaType", d.mediaType());
        g.writeStringField("digest", d.digest().toString());
        g.writeNumberField("size", d.size());
        if (!d.urls().isEmpty()) {
            g.writeArrayFieldStart("urls");
            for (String u : d.urls()) {
                g.writeString(u);
            }
            g.writeEndArray();
        }
        writeAnnotations(g, d.annotations());
        if (d.platform() != null) {
            g.writeObjectFieldStart("platform");
            g.writeStringField("architecture", d.platform().architecture());
            g.writeStringField("os", d.platform().os());
            if (d.platform().variant() != null) {
                g.writeStringField("variant", d.platform().variant());
            }
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    static void writeDescriptors(JsonGenerator g, String name, List<Descriptor> ds) throws IOException {
        g.writeArrayFieldStart(name);
        for (Descriptor d : ds) {
            writeDescriptor(g, null, d);
        }
        g.writeEndArray();
    }

    /** Annotations sorted by key, omitted when empty. */
    static void writeAnnotations(JsonGenerator g, Map<String, String> annotations) throws IOException {
        if (annotations.isEmpty()) {
            return;
        }
        g.writeObjectFieldStart("annotations");
        for (Map.Entry<String, String> e : new TreeMap<>(annotations).entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
    }

    static void writeTree(JsonGenerator g, JsonNode node) throws IOException {
        MAPPER.writeTree(g, node);
    }

    static JsonNode readTree(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new OciFormatException("not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    static String writeTreeAsString(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
