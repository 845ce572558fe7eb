package io.layerswarm.cache.sim;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.layerswarm.cache.ByteSize;
import io.layerswarm.cache.policy.ImageRequest;
import io.layerswarm.cache.policy.LayerRef;
import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The images file: {@code {"name:tag": {"layers": [{"digest": "sha256:...", "size": 123}, ...]}}}.
 * Sizes may be numbers or strings such as {@code "500MB"}. Files larger than {@link #MAX_FILE_BYTES}
 * are refused before parsing so memory stays bounded.
 */
public final class ImageCatalog {
    /** Largest images file accepted. */
    public static final long MAX_FILE_BYTES = 64L << 20;

    private final Map<String, ImageRequest> images;

    /** A catalog of the given images (name to request), in the given order. */
    public ImageCatalog(Map<String, ImageRequest> images) {
        this.images = Collections.unmodifiableMap(new LinkedHashMap<>(images));
    }

    /** Image names in file order. */
    public List<String> names() {
        return List.copyOf(images.keySet());
    }

    /** The request for {@code image}, or {@code null} when unknown. */
    public ImageRequest get(String image) {
        return images.get(image);
    }

    /** Number of images. */
    public int size() {
        return images.size();
    }

    /** Bytes of all distinct layers. */
    public long distinctLayerBytes() {
        Map<String, Long> seen = new LinkedHashMap<>();
        for (ImageRequest r : images.values()) {
            for (LayerRef l : r.layers()) {
                seen.putIfAbsent(l.key(), l.size());
            }
        }
        return seen.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Reads an images file. */
    public static ImageCatalog read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new IOException("images file " + file + " is " + size + " bytes; limit is " + MAX_FILE_BYTES);
        }
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        }
    }

    /** Parses an images document from a stream (at most {@link #MAX_FILE_BYTES} are read). */
    public static ImageCatalog parse(InputStream in, String source) throws IOException {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16)
                        .maxStringLength(1 << 20).maxNumberLength(32).build())
                .build();
        ObjectMapper mapper = new ObjectMapper(factory);
        JsonNode root;
        try {
            root = mapper.readTree(new BoundedInputStream(in, MAX_FILE_BYTES));
        } catch (JsonProcessingException e) {
            throw new IOException("images file " + source + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!(root instanceof ObjectNode obj)) {
            throw new IOException("images file " + source + ": expected a JSON object of name:tag -> {layers: [...]}");
        }
        Map<String, ImageRequest> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), parseImage(e.getKey(), e.getValue(), source));
        }
        return new ImageCatalog(out);
    }

    private static ImageRequest parseImage(String name, JsonNode node, String source) throws IOException {
        String where = "images file " + source + ", image '" + name + "'";
        if (name.isEmpty()) {
            throw new IOException("images file " + source + ": empty image name");
        }
        JsonNode layers = node == null ? null : node.get("layers");
        if (!(layers instanceof ArrayNode arr)) {
            throw new IOException(where + ": missing \"layers\" array");
        }
        List<LayerRef> refs = new ArrayList<>(arr.size());
        for (int i = 0; i < arr.size(); i++) {
            JsonNode l = arr.get(i);
            JsonNode d = l.get("digest");
            JsonNode s = l.get("size");
            if (d == null || !d.isTextual() || s == null) {
                throw new IOException(where + ", layer " + i + ": needs \"digest\" (string) and \"size\"");
            }
            try {
                Digest digest = Digest.parse(d.asText());
                long size = s.isIntegralNumber() ? s.longValue()
                        : s.isTextual() ? ByteSize.parse(s.asText()) : -1;
                if (size < 0 || (s.isIntegralNumber() && !s.canConvertToLong())) {
                    throw new IllegalArgumentException("size must be a non-negative integer or a size string");
                }
                refs.add(new LayerRef(digest.toString(), size));
            } catch (IllegalArgumentException ex) {
                throw new IOException(where + ", layer " + i + ": " + ex.getMessage(), ex);
            }
        }
        return new ImageRequest(name, refs);
    }

    /** Writes the catalog as an images file (pretty-printed, one image per entry). */
    public void write(OutputStream out) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        images.forEach((name, req) -> {
            ArrayNode layers = root.putObject(name).putArray("layers");
            for (LayerRef l : req.layers()) {
                layers.addObject().put("digest", l.key()).put("size", l.size());
            }
        });
        mapper.disable(JsonParser.Feature.AUTO_CLOSE_SOURCE);
        mapper.writerWithDefaultPrettyPrinter().without(com.fasterxml.jackson.core.JsonGenerator.Feature.AUTO_CLOSE_TARGET)
                .writeValue(out, root);
    }

    /** Refuses to read past a limit, so a huge stream cannot exhaust memory. */
    private static final class BoundedInputStream extends java.io.FilterInputStream {
        private long left;

        private int atLimit() throws IOException {
            if (super.read() < 0) {
                return -1;
            }
            throw new IOException("input exceeds " + MAX_FILE_BYTES + " bytes");
        }

        BoundedInputStream(InputStream in, long limit) {
            super(in);
            this.left = limit;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return atLimit();
            }
            int b = super.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return atLimit();
            }
            int n = super.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
