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
    void aPinIsHeldExactlyWhileAStreamIsOpen() throws Exception {
        byte[] data = Files.readAllBytes(Path.of("/usr/bin/true")); // a real file from Debian's coreutils
        AtomicInteger pins = new AtomicInteger();
        PinnedBlobContent b = new PinnedBlobContent(BlobContent.ofBytes(data), () -> {
            pins.incrementAndGet();
            return pins::decrementAndGet;
        });
        assertEquals(0, pins.get(), "nothing is pinned before a response streams the blob");
        InputStream first = b.open(0, data.length);
        InputStream second = b.open(10, 20);
        assertEquals(2, pins.get());
        assertArrayEquals(data, first.readAllBytes());
        first.close();
        first.close(); // idempotent: releases once
        assertEquals(1, pins.get());
        second.close();
        assertEquals(0, pins.get());
    }

    @Test
    void aFailedOpenReleasesItsPin() {
        AtomicInteger pins = new AtomicInteger();
        PinnedBlobContent b = new PinnedBlobContent(new BlobContent() {
            @Override
            public long size() {
                return 1;
            }

            @Override
            public InputStream open(long offset, long length) throws IOException {
                throw new IOException("evicted");
            }
        }, () -> {
            pins.incrementAndGet();
            return pins::decrementAndGet;
        });
        assertThrows(IOException.class, () -> b.open(0, 1));
        assertEquals(0, pins.get());
    }
}
