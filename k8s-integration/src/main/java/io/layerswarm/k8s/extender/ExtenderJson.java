package io.layerswarm.k8s.extender;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/**
 * The extender protocol's JSON codec: bounded input, unknown fields ignored (as Go's decoder does, so a
 * newer scheduler's extra fields do not break us), PascalCase outer names read case-insensitively.
 */
public final class ExtenderJson {
    /** Largest request body accepted: a NodeList of 5000 full nodes is about 40 MiB; 64 MiB leaves room. */
    public static final int MAX_REQUEST_BYTES = 64 << 20;

    private final ObjectMapper mapper;

    /** A codec with the default limits. */
    public ExtenderJson() {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(200).maxStringLength(MAX_REQUEST_BYTES).build())
                .build();
        this.mapper = new ObjectMapper(factory)
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    }

    /**
     * Decodes one message.
     *
     * @throws ExtenderRequestException with the parser's location when the body is not a valid {@code type}
     */
    public <T> T read(byte[] body, Class<T> type) {
        if (body.length > MAX_REQUEST_BYTES) {
            throw new ExtenderRequestException("request body of " + body.length + " bytes exceeds " + MAX_REQUEST_BYTES);
        }
        if (body.length == 0) {
            throw new ExtenderRequestException("empty request body, expected a JSON " + type.getSimpleName());
        }
        try {
            T value;
            // Trailing tokens are checked here, not with FAIL_ON_TRAILING_TOKENS: fabric8's model binds
            // nested JsonNodes, and that feature would wrongly apply to each of them.
            try (JsonParser p = mapper.createParser(body)) {
                value = p.nextToken() == null ? null : mapper.readValue(p, type);
                if (p.nextToken() != null) {
                    throw new ExtenderRequestException("malformed " + type.getSimpleName()
                            + ": data after the JSON value at line " + p.currentLocation().getLineNr()
                            + " column " + p.currentLocation().getColumnNr());
                }
            }
            if (value == null) {
                throw new ExtenderRequestException("request body is JSON null, expected a " + type.getSimpleName());
            }
            return value;
        } catch (JsonProcessingException e) {
            throw new ExtenderRequestException("malformed " + type.getSimpleName() + ": " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                    + " column " + e.getLocation().getColumnNr()), e);
        } catch (IOException e) {
            throw new ExtenderRequestException("unreadable " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** Encodes one message. */
    public byte[] write(Object value) {
        try {
            return mapper.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    /** The underlying mapper, for tests that compare trees. */
    public ObjectMapper mapper() {
        return mapper;
    }
}
