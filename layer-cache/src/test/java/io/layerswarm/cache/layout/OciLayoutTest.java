package io.layerswarm.cache.layout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.cache.tools.TarBuilder;
import io.layerswarm.cache.tools.TestImage;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OciLayoutTest {
    @TempDir
    Path tmp;
    ContentStore store;
    TestImage image;
    Path dir;

    @BeforeEach
    void setUp() throws IOException {
        store = ContentStore.open(tmp.resolve("store"));
        image = TestImage.create(store, new TarBuilder().file("hello.txt", "hello"));
        dir = tmp.resolve("layout");
    }

    @AfterEach
    void tearDown() throws IOException {
        store.close();
    }

    OciLayoutWriter writeImage() throws IOException {
        OciLayoutWriter w = OciLayoutWriter.create(dir);
        for (Descriptor d : image.blobs()) {
            w.addBlob(store, d.digest());
        }
        return w;
    }

    @Test
    void writtenLayoutReadsBackWithRefsAndVerifiedBlobs() throws Exception {
        OciLayoutWriter w = writeImage();
        Descriptor v1 = w.tag(image.manifest(), "v1");
        w.tag(image.manifest(), "example.com/app:latest");
        w.commit();
        Descriptor layer = image.manifest().layers().get(0);
        assertTrue(Files.isSameFile(store.blobPath(layer.digest()), OciLayoutReader.blobPath(dir, layer.digest())),
                "blobs are hard-linked from the store on the same file system");

        OciLayoutReader r = OciLayoutReader.open(dir);
        assertEquals(List.of("v1", "example.com/app:latest"), r.refs());
        assertEquals(v1, r.resolve("v1").orElseThrow());
        assertEquals(image.manifest(), r.manifest("v1"));
        try (InputStream in = r.openBlob(layer.digest(), layer.size())) {
            assertArrayEquals(TarBuilder.gzip(image.layerTar()), in.readAllBytes());
        }
        assertEquals("{\"imageLayoutVersion\":\"1.0.0\"}", Files.readString(dir.resolve("oci-layout")));

        // Re-tagging replaces; a second writer appends to the existing index.
        OciLayoutWriter again = OciLayoutWriter.create(dir);
        again.tag(image.manifest(), "v1");
        again.tag(image.manifest(), "v2");
        again.commit();
        assertEquals(List.of("example.com/app:latest", "v1", "v2"), OciLayoutReader.open(dir).refs());

        // And blobs copy back into a fresh store, verified.
        try (ContentStore other = ContentStore.open(tmp.resolve("other"))) {
            r.copyTo(other, layer);
            assertTrue(other.contains(layer.digest()));
        }
    }

    @Test
    void copyModeWritesIndependentVerifiedCopies() throws Exception {
        OciLayoutWriter w = OciLayoutWriter.create(dir, false);
        for (Descriptor d : image.blobs()) {
            w.addBlob(store, d.digest());
            Path copy = OciLayoutReader.blobPath(dir, d.digest());
            assertFalse(Files.isSameFile(store.blobPath(d.digest()), copy));
            assertArrayEquals(Files.readAllBytes(store.blobPath(d.digest())), Files.readAllBytes(copy));
        }
        w.tag(image.manifest(), "copy");
        w.commit();
        OciLayoutReader r = OciLayoutReader.open(dir);
        assertEquals(image.manifest(), r.manifest("copy"));
        try (var s = Files.list(OciLayoutReader.blobPath(dir, image.manifest().config().digest()).getParent())) {
            assertEquals(3, s.count(), "config, layer and manifest, no temp files");
        }
    }

    @Test
    void refusesUnverifiedOrIncompleteContent() throws Exception {
        OciLayoutWriter w = OciLayoutWriter.create(dir);
        Digest absent = Digest.sha256("not in the store".getBytes(StandardCharsets.UTF_8));
        assertThrows(NoSuchFileException.class, () -> w.addBlob(store, absent));
        assertThrows(DigestMismatchException.class, () -> w.addBlob(absent, "something else".getBytes(StandardCharsets.UTF_8)));
        w.addBlob(store, image.manifest().config().digest());
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> w.tag(image.manifest(), "v1"));
        assertTrue(e.getMessage().contains(image.manifest().layers().get(0).digest().toString()), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> w.tag(image.manifest(), "bad ref!"));
        assertThrows(IllegalArgumentException.class, () -> w.tag(image.manifest(), "../escape"));
        assertEquals(List.of(), w.entries());
        assertFalse(Files.exists(dir.resolve("index.json")));
        try (var s = Files.list(OciLayoutReader.blobPath(dir, absent).getParent())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }

    @Test
    void tamperedBlobIsDetectedOnRead() throws Exception {
        OciLayoutWriter w = OciLayoutWriter.create(dir);
        byte[] cfg;
        try (InputStream in = store.open(image.manifest().config().digest())) {
            cfg = in.readAllBytes();
        }
        w.addBlob(image.manifest().config().digest(), cfg); // a copy, not a link to the store
        Path p = OciLayoutReader.blobPath(dir, image.manifest().config().digest());
        byte[] bad = cfg.clone();
        bad[5] ^= 1;
        Files.write(p, bad);
        w.addBlob(store, image.manifest().layers().get(0).digest());
        w.tag(image.manifest(), "v1");
        w.commit();
        OciLayoutReader r = OciLayoutReader.open(dir);
        IOException e = assertThrows(DigestMismatchException.class,
                () -> r.readBlob(image.manifest().config()));
        assertTrue(e.getMessage().contains("does not match digest"), e.getMessage());
        Files.write(p, Arrays.copyOf(cfg, cfg.length + 1));
        e = assertThrows(DigestMismatchException.class, () -> r.readBlob(image.manifest().config()));
        assertTrue(e.getMessage().contains("more than the expected"), e.getMessage());
        // A writer repairs a corrupt blob when the store has the good one.
        w.addBlob(store, image.manifest().config().digest());
        assertArrayEquals(cfg, r.readBlob(image.manifest().config()));
    }

    @Test
    void malformedLayoutFilesAreRejectedClearly() throws Exception {
        OciLayoutWriter w = writeImage();
        w.tag(image.manifest(), "v1");
        w.commit();
        byte[] goodIndex = Files.readAllBytes(dir.resolve("index.json"));
        Random rnd = new Random(9);
        byte[] junk = new byte[3000];
        rnd.nextBytes(junk);
        String digestRef = image.manifest().layers().get(0).digest().toString();
        List<byte[]> badIndexes = List.of(
                junk,
                new byte[0],
                Arrays.copyOf(goodIndex, goodIndex.length / 2),
                "{}".getBytes(StandardCharsets.UTF_8),
                "[]".getBytes(StandardCharsets.UTF_8),
                "{\"schemaVersion\":1,\"manifests\":[]}".getBytes(StandardCharsets.UTF_8),
                ("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                        + "\"digest\":\"sha256:../../etc\",\"size\":1}]}").getBytes(StandardCharsets.UTF_8),
                ("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                        + "\"digest\":\"" + digestRef + "\",\"size\":-5}]}").getBytes(StandardCharsets.UTF_8),
                (new String(goodIndex, StandardCharsets.UTF_8) + "{}").getBytes(StandardCharsets.UTF_8),
                new byte[5 << 20]);
        for (byte[] bad : badIndexes) {
            Files.write(dir.resolve("index.json"), bad);
            InvalidLayoutException e = assertThrows(InvalidLayoutException.class, () -> OciLayoutReader.open(dir),
                    () -> "accepted " + new String(bad, 0, Math.min(bad.length, 60), StandardCharsets.UTF_8));
            assertTrue(e.getMessage().contains("index.json"), e.getMessage());
        }
        Files.write(dir.resolve("index.json"), goodIndex);
        for (String layout : List.of("", "{", "{\"imageLayoutVersion\":\"2.0.0\"}", "[]", "{\"imageLayoutVersion\":1}")) {
            Files.writeString(dir.resolve("oci-layout"), layout);
            InvalidLayoutException e = assertThrows(InvalidLayoutException.class, () -> OciLayoutReader.open(dir));
            assertTrue(e.getMessage().contains("oci-layout"), e.getMessage());
            assertThrows(InvalidLayoutException.class, () -> OciLayoutWriter.create(dir));
        }
        Files.delete(dir.resolve("oci-layout"));
        InvalidLayoutException e = assertThrows(InvalidLayoutException.class, () -> OciLayoutReader.open(dir));
        assertTrue(e.getMessage().contains("not an OCI layout"), e.getMessage());
    }
}
