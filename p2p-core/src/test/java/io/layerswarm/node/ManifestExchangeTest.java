package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.mirror.ManifestContent;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ManifestExchangeTest {
    private static final ManifestContent MANIFEST = ManifestContent.of(
            "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8), "application/vnd.oci.image.manifest.v1+json");

    private static byte[] response(ManifestContent mc) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ManifestExchange.writeResponse(out, mc);
        return out.toByteArray();
    }

    @Test
    void roundTrips() throws Exception {
        ByteArrayOutputStream req = new ByteArrayOutputStream();
        ManifestExchange.writeRequest(req, "127.0.0.1:5000|library/alpine@3.19");
        assertEquals("127.0.0.1:5000|library/alpine@3.19", ManifestExchange.readRequest(new ByteArrayInputStream(req.toByteArray())));
        ManifestContent back = ManifestExchange.readResponse(new ByteArrayInputStream(response(MANIFEST))).orElseThrow();
        assertArrayEquals(MANIFEST.bytes(), back.bytes());
        assertEquals(MANIFEST.mediaType(), back.mediaType());
        assertEquals(MANIFEST.digest(), back.digest());
        assertEquals(Optional.empty(), ManifestExchange.readResponse(new ByteArrayInputStream(response(null))));
    }

    @Test
    void truncatedOversizedAndRandomFramesAreClearErrors() throws Exception {
        byte[] ok = response(MANIFEST);
        for (int cut = 1; cut < ok.length; cut++) {
            byte[] t = Arrays.copyOf(ok, cut);
            assertThrows(IOException.class, () -> ManifestExchange.readResponse(new ByteArrayInputStream(t)), "cut " + cut);
        }
        // a manifest length claiming 2 GiB must be refused before anything is allocated
        byte[] huge = {4, 'a', '/', 'b', 'c', (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};
        IOException e = assertThrows(IOException.class, () -> ManifestExchange.readResponse(new ByteArrayInputStream(huge)));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
        byte[] longKey = {(byte) 0xff, (byte) 0x7f};
        assertThrows(IOException.class, () -> ManifestExchange.readRequest(new ByteArrayInputStream(longKey)));
        assertThrows(IOException.class, () -> ManifestExchange.readRequest(new ByteArrayInputStream(new byte[] {0})),
                "an empty key");
        assertThrows(IOException.class, () -> ManifestExchange.readResponse(new ByteArrayInputStream(new byte[] {1, 'x', 0})),
                "a found response with an empty manifest");
        assertThrows(IOException.class, () -> ManifestExchange.writeRequest(new ByteArrayOutputStream(), "x".repeat(5000)));
        Random r = new Random(3);
        for (int i = 0; i < 500; i++) {
            byte[] b = new byte[r.nextInt(64)];
            r.nextBytes(b);
            try {
                ManifestExchange.readResponse(new ByteArrayInputStream(b));
            } catch (IOException expected) {
                assertTrue(expected.getMessage() != null);
            }
            try {
                ManifestExchange.readRequest(new ByteArrayInputStream(b));
            } catch (IOException expected) {
                assertTrue(expected.getMessage() != null);
            }
        }
    }
}
