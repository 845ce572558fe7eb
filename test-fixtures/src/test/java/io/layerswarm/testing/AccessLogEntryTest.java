package io.layerswarm.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AccessLogEntryTest {
    static final String DIGEST = "sha256:" + "ab".repeat(32);

    @Test
    void parsesCombinedLogLines() {
        AccessLogEntry e = AccessLogEntry.parse("127.0.0.1 - tester [24/Nov/2026:23:39:35 +0000] \"GET /v2/a/b/blobs/" + DIGEST
                + " HTTP/1.1\" 206 1048576 \"\" \"layerswarm/0.1\"").orElseThrow();
        assertEquals("GET", e.method());
        assertEquals("tester", e.user());
        assertEquals(206, e.status());
        assertEquals(1048576, e.bytesSent());
        assertEquals("layerswarm/0.1", e.userAgent());
        assertEquals(DIGEST, e.blobDigest().orElseThrow());
        AccessLogEntry head = AccessLogEntry.parse("127.0.0.1 - - [24/Nov/2026:23:39:35 +0000] \"HEAD /v2/x/manifests/v1 HTTP/1.1\" 200 - \"\" \"curl\"")
                .orElseThrow();
        assertEquals(0, head.bytesSent());
        assertTrue(head.blobDigest().isEmpty());
    }

    @Test
    void ignoresEverythingElse() {
        for (String junk : new String[] {"", "time=\"2026\" level=info msg=\"response completed\"",
                "127.0.0.1 - - [x] \"GET /v2/ HTTP/1.1\" 2000 5 \"\" \"a\"",
                "127.0.0.1 - - [x] \"GET /v2/ HTTP/1.1\" 200 99999999999999999999999 \"\" \"a\"",
                "127.0.0.1 - - [x] \"GET\" 200 5 \"\" \"a\""}) {
            try {
                assertTrue(AccessLogEntry.parse(junk).isEmpty(), junk);
            } catch (NumberFormatException e) {
                throw new AssertionError("unexpected exception for " + junk, e);
            }
        }
        Random rnd = new Random(1);
        for (int i = 0; i < 2000; i++) {
            byte[] b = new byte[rnd.nextInt(300)];
            rnd.nextBytes(b);
            assertTrue(AccessLogEntry.parse(new String(b, StandardCharsets.ISO_8859_1)).isEmpty());
        }
    }
}
