package io.layerswarm.cache.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.policy.LayerRef;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ImageCatalogTest {
    static final String D1 = "sha256:" + "a".repeat(64);
    static final String D2 = "sha256:" + "b".repeat(64);

    private static ImageCatalog parse(String json) throws IOException {
        return ImageCatalog.parse(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "test");
    }

    @Test
    void parsesNumbersAndSizeStringsAndRoundTrips() throws Exception {
        ImageCatalog c = parse("{\"app:1\": {\"layers\": [{\"digest\": \"" + D1 + "\", \"size\": \"500MB\"},"
                + " {\"digest\": \"" + D2 + "\", \"size\": 1024}, {\"digest\": \"" + D1 + "\", \"size\": 1}]},"
                + " \"app:2\": {\"layers\": [{\"digest\": \"" + D2 + "\", \"size\": \"1KiB\"}]}}");
        assertEquals(List.of("app:1", "app:2"), c.names());
        assertEquals(List.of(new LayerRef(D1, 500_000_000L), new LayerRef(D2, 1024)), c.get("app:1").layers(),
                "a repeated layer is requested once");
        assertEquals(500_001_024L, c.distinctLayerBytes());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        c.write(out);
        ImageCatalog again = ImageCatalog.parse(new ByteArrayInputStream(out.toByteArray()), "round-trip");
        assertEquals(c.get("app:1"), again.get("app:1"));
        assertEquals(c.get("app:2"), again.get("app:2"));
    }

    @Test
    void garbageIsRejectedWithTheImageAndLayerNamed() {
        String[][] cases = {
            {"{\"app:1\": {\"layers\": [{\"digest\": \"" + D1 + "\", \"si", "not valid JSON"},
            {"[1, 2]", "expected a JSON object"},
            {"{\"app:1\": {}}", "missing \"layers\""},
            {"{\"app:1\": {\"layers\": [{\"digest\": \"md5:abc\", \"size\": 1}]}}", "layer 0"},
            {"{\"app:1\": {\"layers\": [{\"digest\": \"" + D1 + "\", \"size\": -1}]}}", "non-negative"},
            {"{\"app:1\": {\"layers\": [{\"digest\": \"" + D1 + "\", \"size\": 1e99}]}}", "app:1"},
            {"{\"app:1\": {\"layers\": [{\"digest\": \"" + D1 + "\", \"size\": 99999999999999999999999}]}}", "app:1"},
            {"{\"app:1\": {\"layers\": [{\"digest\": \"" + D1 + "\", \"size\": \"lots\"}]}}", "invalid size"},
            {"{\"app:1\": {\"layers\": [{\"size\": 1}]}}", "needs \"digest\""},
        };
        for (String[] c : cases) {
            IOException e = assertThrows(IOException.class, () -> parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void randomBytesAndEndlessInputFailWithBoundedMemory() {
        byte[] random = new byte[10_000];
        new Random(3).nextBytes(random);
        assertThrows(IOException.class, () -> ImageCatalog.parse(new ByteArrayInputStream(random), "random"));
        // Endless nesting: stopped by the depth limit long before memory matters.
        InputStream nesting = endless("{\"a\":".getBytes(StandardCharsets.UTF_8));
        assertThrows(IOException.class, () -> ImageCatalog.parse(nesting, "nesting"));
        // An endless string: stopped by the string length limit or the byte limit.
        InputStream string = new java.io.SequenceInputStream(
                new ByteArrayInputStream("{\"".getBytes(StandardCharsets.UTF_8)), endless("x".getBytes(StandardCharsets.UTF_8)));
        IOException e = assertThrows(IOException.class, () -> ImageCatalog.parse(string, "string"));
        assertTrue(e.getMessage().contains("string") || e.getMessage().contains("exceeds"), e.getMessage());
    }

    private static InputStream endless(byte[] unit) {
        return new InputStream() {
            private long i;

            @Override
            public int read() {
                return unit[(int) (i++ % unit.length)];
            }
        };
    }
}
