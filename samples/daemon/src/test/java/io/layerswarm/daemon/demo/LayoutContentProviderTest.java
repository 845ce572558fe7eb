package io.layerswarm.daemon.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.layout.InvalidLayoutException;
import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayoutContentProviderTest {
    static final Digest LAYER = Digest.parse("sha256:9f1ea5b795cdc6c084e0f244df56190fe200c97e752d69c0d3f72c4e83e14f46");

    @TempDir
    Path tmp;

    @Test
    void servesTagsDigestsAndRangesOfTheLayout() throws Exception {
        LayoutContentProvider p = LayoutContentProvider.open("demo", DemoImage.extractTo(tmp.resolve("l")));
        var byTag = p.manifest("demo", "1", List.of()).orElseThrow();
        assertEquals(byTag.digest(), p.manifest("demo", byTag.digest().toString(), List.of()).orElseThrow().digest());
        assertTrue(p.manifest("other", "1", List.of()).isEmpty());
        assertTrue(p.manifest("demo", "2", List.of()).isEmpty());
        var blob = p.blob("demo", LAYER).orElseThrow();
        assertEquals(1148206, blob.size());
        try (InputStream in = blob.open(100, 1000)) {
            assertEquals(1000, in.readAllBytes().length);
        }
        assertEquals(1000, p.blobBytesServed());
        assertTrue(p.blob("demo", Digest.sha256(new byte[1])).isEmpty());
    }

    @Test
    void refusesACorruptBlob() throws Exception {
        Path dir = DemoImage.extractTo(tmp.resolve("l"));
        Path f = dir.resolve("blobs/sha256").resolve(LAYER.hex());
        byte[] b = Files.readAllBytes(f);
        b[b.length / 2] ^= 1;
        Files.write(f, b);
        IOException e = assertThrows(IOException.class, () -> LayoutContentProvider.open("demo", dir));
        assertTrue(e.getMessage().contains(LAYER.hex()) || String.valueOf(e).contains("mismatch"), e.toString());
    }

    @Test
    void refusesGarbageIndexAndTruncatedOrOversizedFiles() throws Exception {
        Path dir = DemoImage.extractTo(tmp.resolve("l"));
        byte[] junk = new byte[4096];
        new Random(1).nextBytes(junk);
        Files.write(dir.resolve("index.json"), junk);
        assertThrows(InvalidLayoutException.class, () -> LayoutContentProvider.open("demo", dir));
        Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[");
        assertThrows(InvalidLayoutException.class, () -> LayoutContentProvider.open("demo", dir));
        Files.write(dir.resolve("index.json"), new byte[5 * 1024 * 1024]);
        assertThrows(InvalidLayoutException.class, () -> LayoutContentProvider.open("demo", dir));
    }
}
