package io.layerswarm.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import io.layerswarm.oci.ImageIndex;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.oci.Platform;
import io.layerswarm.testing.AccessLogEntry;
import io.layerswarm.testing.RegistryFixture.Mode;
import io.layerswarm.testing.RegistryFixture;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** RegistryClient against the real docker-registry, in every auth mode. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegistryClientIT {
    private final Map<Mode, RegistryFixture> registries = new EnumMap<>(Mode.class);

    @TempDir
    Path tmp;

    RegistryFixture registry(Mode mode) {
        return registries.computeIfAbsent(mode, RegistryFixture::start);
    }

    static RegistryClient client(RegistryFixture reg) {
        RegistryClient.Builder b = RegistryClient.builder(reg.baseUri()).maxConcurrentRequests(4);
        if (reg.mode() != Mode.PLAIN) {
            b.credentials(reg.username(), reg.password());
        }
        return b.build();
    }

    @AfterAll
    void stop() {
        registries.values().forEach(RegistryFixture::close);
    }

    /** Pushes an image: layer 0 monolithic from memory, the others chunked from files, config from a file. */
    static void pushImage(RegistryClient c, String repo, TestImages.Image img, Path tmp) throws Exception {
        for (int i = 0; i < img.layers().size(); i++) {
            TestImages.Blob l = img.layers().get(i);
            if (i == 0) {
                c.pushBlob(repo, l.digest(), l.data());
            } else {
                Path f = Files.write(tmp.resolve("layer-" + l.digest().hex()), l.data());
                c.pushBlobChunked(repo, l.digest(), f, 256 * 1024);
            }
        }
        Path cfg = Files.write(tmp.resolve("config-" + img.config().digest().hex()), img.config().data());
        c.pushBlob(repo, img.config().digest(), cfg);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void pushThenPullImageAndIndex(Mode mode) throws Exception {
        RegistryFixture reg = registry(mode);
        RegistryClient c = client(reg);
        c.ping();
        String repo = "it/" + mode.name().toLowerCase() + "/app";
        TestImages.Image amd = TestImages.image(1, "amd64", 100_000, 900_000);
        TestImages.Image arm = TestImages.image(2, "arm64", 50_000);
        pushImage(c, repo, amd, tmp);
        pushImage(c, repo, arm, tmp);
        Digest amdDigest = c.putManifest(repo, "v1-amd64", amd.manifestBytes(), MediaTypes.OCI_MANIFEST);
        assertEquals(amd.manifest().digest(), amdDigest);
        c.putManifest(repo, arm.manifest().digest().toString(), arm.manifestBytes(), MediaTypes.OCI_MANIFEST);
        ImageIndex index = ImageIndex.oci(List.of(amd.manifest().descriptor(Platform.linuxAmd64()),
                arm.manifest().descriptor(new Platform("linux", "arm64", "v8"))));
        c.putManifest(repo, "multi", index.toJson(), MediaTypes.OCI_INDEX);

        // resolve through the index, per platform
        ResolvedImage r = c.resolveImage(repo, "multi", new Platform("linux", "arm64", null));
        assertEquals(arm.manifest().digest(), r.manifestDigest());
        assertEquals(index.digest(), r.index().digest());
        assertEquals(arm.manifest(), r.manifest());
        ResolvedImage direct = c.resolveImage(repo, "v1-amd64", Platform.linuxAmd64());
        assertNull(direct.index());
        assertEquals(amd.manifest(), direct.manifest());
        RegistryException noPlatform = assertThrows(RegistryException.class,
                () -> c.resolveImage(repo, "multi", new Platform("linux", "s390x", null)));
        assertTrue(noPlatform.getMessage().contains("linux/s390x"), noPlatform.getMessage());

        // blobs back, verified
        for (TestImages.Blob l : amd.layers()) {
            try (InputStream in = c.openBlob(repo, l.digest(), l.descriptor().size())) {
                assertArrayEquals(l.data(), in.readAllBytes());
            }
            Path out = tmp.resolve("dl-" + l.digest().hex());
            assertEquals(l.data().length, c.downloadBlob(repo, l.digest(), l.descriptor().size(), out));
            assertArrayEquals(l.data(), Files.readAllBytes(out));
        }
        assertArrayEquals(amd.config().data(), c.fetchBlob(repo, amd.config().digest(), 1 << 20));

        // HEAD
        assertEquals(amd.layers().get(1).data().length, c.blobSize(repo, amd.layers().get(1).digest()).getAsLong());
        assertFalse(c.blobExists(repo, Digest.sha256(new byte[] {1, 2, 3})));
        Descriptor head = c.headManifest(repo, "multi").orElseThrow();
        assertEquals(index.digest(), head.digest());
        assertEquals(MediaTypes.OCI_INDEX, head.mediaType());
        assertTrue(c.headManifest(repo, "missing").isEmpty());
        RegistryException unknown = assertThrows(RegistryException.class, () -> c.getManifest(repo, "missing"));
        assertEquals(404, unknown.status());
        assertTrue(unknown.hasCode("MANIFEST_UNKNOWN"), unknown.getMessage());

        // listing, also across pages
        assertEquals(List.of("multi", "v1-amd64"), c.listTags(repo).stream().sorted().toList());
        assertTrue(c.catalog().contains(repo));
        for (String t : List.of("p1", "p2", "p3")) {
            c.putManifest(repo, t, amd.manifestBytes(), MediaTypes.OCI_MANIFEST);
        }
        RegistryClient.Builder paged = RegistryClient.builder(reg.baseUri()).pageSize(2);
        if (mode != Mode.PLAIN) {
            paged.credentials(reg.username(), reg.password());
        }
        RegistryClient pc = paged.build();
        // (registry 2.8 does not paginate tags, but does paginate the catalog)
        assertEquals(List.of("multi", "p1", "p2", "p3", "v1-amd64"), pc.listTags(repo).stream().sorted().toList());
        TestImages.Image tiny = TestImages.image(3, "amd64", 100);
        for (String extra : List.of(repo + "-x1", repo + "-x2")) {
            pushImage(c, extra, tiny, tmp);
            c.putManifest(extra, "t", tiny.manifestBytes(), MediaTypes.OCI_MANIFEST);
        }
        List<String> all = c.catalog();
        assertTrue(all.size() >= 3, all.toString());
        int before = reg.accessLog().size();
        assertEquals(all, pc.catalog());
        long pages = reg.accessLog().subList(before, reg.accessLog().size()).stream()
                .filter(e -> e.path().startsWith("/v2/_catalog?") && e.status() == 200).count();
        // A full last page may still carry a next link, leading to one more (empty) page.
        int n = all.size();
        assertTrue(pages == (n + 1) / 2 || (n % 2 == 0 && pages == n / 2 + 1), "catalog of " + n + " in " + pages + " pages of 2");
        assertTrue(pages >= 2);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void mountAcrossRepositories(Mode mode) throws Exception {
        RegistryFixture reg = registry(mode);
        RegistryClient c = client(reg);
        String src = "mount/" + mode.name().toLowerCase() + "/src";
        String dst = "mount/" + mode.name().toLowerCase() + "/dst";
        TestImages.Blob blob = TestImages.blob(MediaTypes.OCI_LAYER_GZIP, TestImages.random(7, 200_000));
        c.pushBlob(src, blob.digest(), blob.data());
        assertFalse(c.blobExists(dst, blob.digest()));
        assertTrue(c.mountBlob(dst, blob.digest(), src));
        assertTrue(c.blobExists(dst, blob.digest()));

        // unknown at the source: the registry opens an upload instead (202), which we use
        TestImages.Blob other = TestImages.blob(MediaTypes.OCI_LAYER_GZIP, TestImages.random(8, 10_000));
        assertFalse(c.mountBlob(dst, other.digest(), src));
        assertFalse(c.blobExists(dst, other.digest()));
        Path f = Files.write(tmp.resolve("other"), other.data());
        assertFalse(c.mountOrPushBlob(dst, other.digest(), src, f));
        assertTrue(c.blobExists(dst, other.digest()));
        assertTrue(c.mountOrPushBlob(dst + "2", other.digest(), dst, f));
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void rangeRequestsAndResumedDownload(Mode mode) throws Exception {
        RegistryFixture reg = registry(mode);
        RegistryClient c = client(reg);
        String repo = "range/" + mode.name().toLowerCase();
        byte[] data = TestImages.random(11, 3 * 1024 * 1024 + 17);
        Digest d = Digest.sha256(data);
        c.pushBlob(repo, d, data);

        byte[] piece = c.fetchRange(repo, d, 1_000_000, 65_536);
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 1_000_000, 1_065_536), piece);
        RegistryException beyond = assertThrows(RegistryException.class, () -> c.fetchRange(repo, d, data.length + 10L, 10));
        assertEquals(416, beyond.status(), beyond.getMessage());

        // interrupt a download part-way, then resume it
        Path target = tmp.resolve("partial");
        int cut = 1_234_567;
        try (InputStream in = c.openBlob(repo, d); OutputStream out = Files.newOutputStream(target)) {
            out.write(in.readNBytes(cut));
        } // closed before EOF: the connection is dropped
        assertEquals(cut, Files.size(target));
        assertEquals(data.length, c.downloadBlob(repo, d, data.length, target));
        assertArrayEquals(data, Files.readAllBytes(target));
        List<AccessLogEntry> resumed = reg.accessLog().stream()
                .filter(e -> e.status() == 206 && e.path().endsWith(d.toString())).toList();
        assertEquals(2, resumed.size(), resumed.toString()); // the piece and the resume
        assertEquals(data.length - cut, resumed.get(1).bytesSent());

        // a corrupt partial file is detected, deleted, and reported
        Path corrupt = tmp.resolve("corrupt");
        byte[] wrong = java.util.Arrays.copyOf(data, 1000);
        wrong[10] ^= 1;
        Files.write(corrupt, wrong);
        assertThrows(DigestMismatchException.class, () -> c.downloadBlob(repo, d, data.length, corrupt));
        assertFalse(Files.exists(corrupt));
    }
}
