package io.layerswarm.cache.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TraceFileTest {
    private static List<TraceEvent> parse(String text) throws IOException {
        return TraceFile.parse(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "t.jsonl");
    }

    @Test
    void parsesSortsAndRoundTrips() throws Exception {
        List<TraceEvent> events = parse("{\"ts\": 20, \"node\": \"n2\", \"image\": \"b:1\"}\n\n"
                + "{\"ts\": 10, \"node\": \"n1\", \"image\": \"a:1\"}\r\n");
        assertEquals(List.of(new TraceEvent(10, "n1", "a:1"), new TraceEvent(20, "n2", "b:1")), events);
        StringWriter w = new StringWriter();
        TraceFile.write(events, w);
        assertEquals(events, parse(w.toString()));
    }

    @Test
    void garbageIsRejectedWithTheLineNumber() {
        String[][] cases = {
            {"{\"ts\": 1, \"node\": \"n\", \"image\": \"a\"}\n{\"ts\": 1, \"node\"", "t.jsonl:2"},
            {"[1]", "expected {"},
            {"{\"ts\": \"soon\", \"node\": \"n\", \"image\": \"a\"}", "\"ts\" must be an integer"},
            {"{\"ts\": 1, \"image\": \"a\"}", "\"node\""},
            {"{\"ts\": 1, \"node\": \"n\", \"image\": 5}", "\"image\""},
            {"{\"ts\": 1e400, \"node\": \"n\", \"image\": \"a\"}", "\"ts\""},
        };
        for (String[] c : cases) {
            IOException e = assertThrows(IOException.class, () -> parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
        byte[] random = new byte[5000];
        new Random(5).nextBytes(random);
        assertThrows(IOException.class, () -> TraceFile.parse(new ByteArrayInputStream(random), "random"));
    }

    @Test
    void endlessLineIsCutAtTheLimit() {
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                return 'x';
            }
        };
        IOException e = assertThrows(IOException.class, () -> TraceFile.parse(endless, "endless"));
        assertTrue(e.getMessage().contains("longer than " + TraceFile.MAX_LINE), e.getMessage());
    }
}
