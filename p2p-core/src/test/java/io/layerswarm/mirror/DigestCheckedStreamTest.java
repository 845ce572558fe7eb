package io.layerswarm.mirror;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DigestCheckedStreamTest {
    @TempDir
    Path tmp;

    /** A real file from Debian's coreutils, several buffers long. */
    private static byte[] blob() throws IOException {
        return Files.readAllBytes(Path.of("/usr/bin/ls"));
    }

    @Test
    void aGoodBlobStreamsWholeAndByRange() throws Exception {
        byte[] data = blob();
        Digest d = Digest.sha256(data);
        Path f = Files.write(tmp.resolve("blob"), data);
        AtomicInteger corrupt = new AtomicInteger();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            long[][] ranges = {{0, data.length}, {0, 1}, {100, 70_000}, {data.length - 1, 1}, {data.length, 0}};
            for (long[] r : ranges) {
                try (InputStream in = new DigestCheckedStream(ch, d, data.length, r[0], r[1], corrupt::incrementAndGet)) {
                    assertArrayEquals(Arrays.copyOfRange(data, (int) r[0], (int) (r[0] + r[1])), in.readAllBytes(),
                            "range " + r[0] + "+" + r[1]);
                }
            }
        }
        assertEquals(0, corrupt.get());
    }

    @Test
    void aRottedBlobFailsBeforeTheLastBytesOfAnyRange() throws Exception {
        byte[] data = blob();
        Digest d = Digest.sha256(data);
        byte[] rotted = data.clone();
        rotted[data.length / 3] ^= 0x01;
        Path f = Files.write(tmp.resolve("blob"), rotted);
        AtomicInteger corrupt = new AtomicInteger();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            // whole, a range before the rot, one after it: the digest covers the whole blob every time
            long[][] ranges = {{0, data.length}, {0, 1000}, {data.length - 5000, 5000}};
            for (long[] r : ranges) {
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                InputStream in = new DigestCheckedStream(ch, d, data.length, r[0], r[1], corrupt::incrementAndGet);
                DigestMismatchException e = assertThrows(DigestMismatchException.class, () -> in.transferTo(got));
                assertTrue(got.size() < r[1], "handed out " + got.size() + " of " + r[1] + " bytes");
                assertEquals(d, e.expected());
            }
        }
        assertEquals(3, corrupt.get(), "each failed response tells the store");
    }

    @Test
    void aTruncatedBlobFailsAndIsReported() throws Exception {
        byte[] data = blob();
        Digest d = Digest.sha256(data);
        Path f = Files.write(tmp.resolve("blob"), Arrays.copyOf(data, data.length - 10));
        AtomicInteger corrupt = new AtomicInteger();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ);
             InputStream in = new DigestCheckedStream(ch, d, data.length, 0, data.length, corrupt::incrementAndGet)) {
            assertThrows(DigestMismatchException.class, in::readAllBytes);
        }
        assertEquals(1, corrupt.get());
    }

    @Test
    void aRangeOutsideTheBlobIsRefused() throws Exception {
        Path f = Files.write(tmp.resolve("blob"), new byte[10]);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            Digest d = Digest.sha256(new byte[10]);
            assertThrows(IllegalArgumentException.class, () -> new DigestCheckedStream(ch, d, 10, 5, 6, () -> { }));
            assertThrows(IllegalArgumentException.class, () -> new DigestCheckedStream(ch, d, 10, -1, 1, () -> { }));
        }
    }
}
