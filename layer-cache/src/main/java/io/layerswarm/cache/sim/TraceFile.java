package io.layerswarm.cache.sim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Trace files: JSON lines {@code {"ts": <ms>, "node": "<id>", "image": "<name:tag>"}}. Blank lines
 * are skipped; a line longer than {@link #MAX_LINE} characters or more than {@link #MAX_EVENTS}
 * events are refused so memory stays bounded. Events are returned sorted by time (stable).
 */
public final class TraceFile {
    /** Longest accepted line. */
    public static final int MAX_LINE = 4096;
    /** Most events accepted in one trace. */
    public static final int MAX_EVENTS = 5_000_000;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private TraceFile() {
    }

    /** Reads a trace file. */
    public static List<TraceEvent> read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        }
    }

    /** Parses a trace from a stream. */
    public static List<TraceEvent> parse(InputStream in, String source) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        List<TraceEvent> events = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        long lineNo = 0;
        int c;
        boolean eof = false;
        while (!eof) {
            line.setLength(0);
            while (true) {
                c = reader.read();
                if (c < 0) {
                    eof = true;
                    break;
                }
                if (c == '\n') {
                    break;
                }
                if (line.length() >= MAX_LINE) {
                    throw new IOException(source + ":" + (lineNo + 1) + ": line longer than " + MAX_LINE + " characters");
                }
                line.append((char) c);
            }
            lineNo++;
            String text = line.toString().strip();
            if (text.isEmpty()) {
                continue;
            }
            if (events.size() >= MAX_EVENTS) {
                throw new IOException(source + ": more than " + MAX_EVENTS + " events");
            }
            events.add(parseLine(text, source + ":" + lineNo));
        }
        events.sort(Comparator.comparingLong(TraceEvent::ts));
        return events;
    }

    private static TraceEvent parseLine(String text, String where) throws IOException {
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IOException(where + ": not a JSON object: " + e.getOriginalMessage(), e);
        }
        if (!(node instanceof ObjectNode)) {
            throw new IOException(where + ": expected {\"ts\": <ms>, \"node\": \"<id>\", \"image\": \"<name:tag>\"}");
        }
        JsonNode ts = node.get("ts");
        JsonNode n = node.get("node");
        JsonNode image = node.get("image");
        if (ts == null || !ts.isIntegralNumber() || !ts.canConvertToLong()) {
            throw new IOException(where + ": \"ts\" must be an integer (milliseconds)");
        }
        if (n == null || !n.isTextual() || n.asText().isEmpty()) {
            throw new IOException(where + ": \"node\" must be a non-empty string");
        }
        if (image == null || !image.isTextual() || image.asText().isEmpty()) {
            throw new IOException(where + ": \"image\" must be a non-empty string");
        }
        return new TraceEvent(ts.longValue(), n.asText(), image.asText());
    }

    /** Writes events as JSON lines. */
    public static void write(List<TraceEvent> events, Writer out) throws IOException {
        for (TraceEvent e : events) {
            ObjectNode o = MAPPER.createObjectNode();
            o.put("ts", e.ts()).put("node", e.node()).put("image", e.image());
            out.write(MAPPER.writeValueAsString(o));
            out.write('\n');
        }
        out.flush();
    }
}
