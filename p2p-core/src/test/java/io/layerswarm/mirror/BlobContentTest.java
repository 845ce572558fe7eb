package io.layerswarm.mirror;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobContentTest {
    @TempDir
    Path tmp;

    /**
     * Netty's ChunkedStream ends a response only when available() says 0 and read() says -1; an
     * unbounded available() kept a range response open forever and hung the next keep-alive request.
     */
    @Test
    void boundedStreamReportsNothingAvailableAfterItsRange() throws Exception {
        byte[] data = new byte[10_000];
        Arrays.fill(data, (byte) 7);
        try (InputStream in = new BlobContent.BoundedInputStream(new ByteArrayInputStream(data), 100)) {
            assertEquals(100, in.available());
            assertEquals(100, in.readAllBytes().length);
            assertEquals(0, in.available());
            assertEquals(-1, in.read());
        }
    }

    @Test
    void fileRangeIsExactlyTheRange() throws Exception {
        byte[] data = new byte[5000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        Path f = Files.write(tmp.resolve("blob"), data);
        try (InputStream in = BlobContent.ofFile(f, data.length).open(1000, 300)) {
            assertTrue(in.available() <= 300);
            assertArrayEquals(Arrays.copyOfRange(data, 1000, 1300), in.readAllBytes());
            assertEquals(0, in.available());
        }
    }
}
