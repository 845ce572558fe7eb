package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerswarm.mirror.BlobContent;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PinnedBlobContentTest {

    @Test
    void theLookupsPinIsHeldUntilTheContentIsClosed() throws Exception {
        byte[] data = Files.readAllBytes(Path.of("/usr/bin/true")); // a real file from Debian's coreutils
        AtomicInteger pins = new AtomicInteger(1);
        AtomicInteger closed = new AtomicInteger();
        PinnedBlobContent b = new PinnedBlobContent(new BlobContent() {
            @Override
            public long size() {
                return data.length;
            }

            @Override
            public InputStream open(long offset, long length) throws IOException {
                return BlobContent.ofBytes(data).open(offset, length);
            }

            @Override
            public void close() {
                closed.incrementAndGet();
            }
        }, pins::decrementAndGet);
        try (InputStream in = b.open(0, data.length)) {
            assertArrayEquals(data, in.readAllBytes());
        }
        assertEquals(1, pins.get(), "closing a stream does not end the response: the pin stays");
        b.close();
        b.close(); // idempotent: releases once
        assertEquals(0, pins.get());
        assertEquals(1, closed.get(), "the blob itself (e.g. its open file) is closed once too");
    }

    @Test
    void aFailingCloseStillReleasesThePin() {
        AtomicInteger pins = new AtomicInteger(1);
        PinnedBlobContent b = new PinnedBlobContent(new BlobContent() {
            @Override
            public long size() {
                return 1;
            }

            @Override
            public InputStream open(long offset, long length) {
                return InputStream.nullInputStream();
            }

            @Override
            public void close() throws IOException {
                throw new IOException("disk gone");
            }
        }, pins::decrementAndGet);
        assertThrows(IOException.class, b::close);
        assertEquals(0, pins.get());
    }
}
