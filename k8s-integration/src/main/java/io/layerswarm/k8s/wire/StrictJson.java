package io.layerswarm.k8s.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * The JSON mapper of the messages peers send each other (status records, preheat requests): one input
 * always means one thing, so unknown fields, missing primitives and trailing data are errors, nesting is
 * bounded, and map keys are written sorted so one message always encodes to the same bytes.
 */
public final class StrictJson {
    private StrictJson() {
    }

    /** A new mapper that accepts at most {@code maxNestingDepth} levels of nesting. */
    public static ObjectMapper mapper(int maxNestingDepth) {
        JsonFactory f = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(maxNestingDepth).build()).build();
        return new ObjectMapper(f)
                .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
                .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
                .configure(DeserializationFeature.FAIL_ON_TRAILING_TOKENS, true);
    }
}
