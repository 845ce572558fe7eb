package io.layerswarm.handoff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class HandoffReportTest {
    @Test
    void roundTripsThroughJson() throws IOException {
        HandoffReport r = new HandoffReport("redis-1", "12D3KooWA", "12D3KooWB", List.of(
                new HandoffReport.Stage("pre-sync", 12.5, 31_000_000),
                new HandoffReport.Stage("round-1", 1.25, 4_000),
                new HandoffReport.Stage("downtime", 0.75, 0)));
        String json = r.toJson();
        assertTrue(json.contains("\"name\":\"pre-sync\""), json);
        assertEquals(r, HandoffReport.parse(json));
        assertEquals(31_004_000, r.totalBytes());
    }

    @Test
    void garbageIsRefusedWithAClearError() {
        for (String bad : List.of("", "null", "{", "[]", "{\"container\":\"c\",\"source\":\"s\",\"target\":\"t\"}",
                "{\"container\":\"c\",\"source\":\"s\",\"target\":\"t\",\"stages\":[{\"name\":\"x\",\"seconds\":-1,\"bytes\":0}]}",
                "{\"container\":\"c\",\"source\":\"s\",\"target\":\"t\",\"stages\":[{\"name\":\"x\",\"seconds\":1,\"bytes\":\"many\"}]}")) {
            IOException e = assertThrows(IOException.class, () -> HandoffReport.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("not a handoff report"), e.getMessage());
        }
    }
}
