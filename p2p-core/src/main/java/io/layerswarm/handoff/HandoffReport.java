package io.layerswarm.handoff;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;
import java.util.Objects;

/**
 * The JSON record of one handoff: each stage (e.g. {@code pre-sync}, {@code round-1},
 * {@code downtime}, {@code final-transfer}, {@code restore}) with its wall time and bytes on the link.
 *
 * @param container the handed-off container
 * @param source source node's peer id
 * @param target target node's peer id
 * @param stages stages in the order they ran
 */
public record HandoffReport(String container, String source, String target, List<Stage> stages) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Validates and copies. */
    public HandoffReport {
        Objects.requireNonNull(container, "container");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        stages = List.copyOf(Objects.requireNonNull(stages, "stages"));
    }

    /**
     * One stage.
     *
     * @param name stage name
     * @param seconds wall time, >= 0
     * @param bytes bytes on the link, >= 0
     */
    public record Stage(String name, double seconds, long bytes) {
        /** Validates. */
        public Stage {
            Objects.requireNonNull(name, "name");
            if (!(seconds >= 0) || Double.isInfinite(seconds) || bytes < 0) {
                throw new IllegalArgumentException("stage " + name + ": seconds " + seconds + " and bytes " + bytes
                        + " must be finite and non-negative");
            }
        }
    }

    /** Bytes of all stages. */
    public long totalBytes() {
        return stages.stream().mapToLong(Stage::bytes).sum();
    }

    /** This report as JSON. */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a report always serialises", e);
        }
    }

    /**
     * Parses a report.
     *
     * @throws IOException with a clear message if the text is not a valid report
     */
    public static HandoffReport parse(String json) throws IOException {
        try {
            HandoffReport r = JSON.readValue(json, HandoffReport.class);
            if (r == null) {
                throw new IOException("not a handoff report: null");
            }
            return r;
        } catch (JsonProcessingException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new IOException("not a handoff report: " + c.getMessage(), e);
        }
    }
}
