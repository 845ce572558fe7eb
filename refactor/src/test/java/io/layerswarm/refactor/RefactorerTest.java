package io.layerswarm.refactor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.refactor.build.BuiltLayer;
import io.layerswarm.refactor.index.AnalysisReport;
import io.layerswarm.refactor.index.FileEntry;
import io.layerswarm.refactor.index.FileType;
import io.layerswarm.refactor.index.ImageTree;
import io.layerswarm.refactor.index.LayerScanner;
import io.layerswarm.refactor.index.RedundancyThreshold;
import io.layerswarm.refactor.index.ScannedLayer;
import io.layerswarm.refactor.plan.Mode;
import io.layerswarm.refactor.plan.PlanOptions;
import io.layerswarm.refactor.plan.RefactorPlan;
import io.layerswarm.refactor.plan.SharedLayerPlanner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RefactorerTest {
    static final byte[] LS = TestLayers.real("/usr/bin/ls");
    static final byte[] CAT = TestLayers.real("/usr/bin/cat");
    static final byte[] ENV = TestLayers.real("/usr/bin/env");
    static final byte[] YES = TestLayers.real("/usr/bin/yes");
    static final byte[] ECHO = TestLayers.real("/usr/bin/echo");
    static final byte[] TRUE = TestLayers.real("/usr/bin/true");
    static final byte[] OS = TestLayers.real("/usr/lib/os-release");

    final TestLayers.Blobs blobs = new TestLayers.Blobs();
    List<SourceImage> images;

    @BeforeEach
    void corpus() {
        Descriptor base = blobs.add(new TestLayers.Layer().dir("bin").dir("etc").dir("usr").dir("usr/lib")
                .file("bin/ls", LS).hardlink("bin/dir", "bin/ls").file("bin/cat", CAT)
                .file("etc/os-release", OS, 0644, 0).bytes());
        // The same files rebuilt: another digest (an extra directory, usr/lib with another mode), as on Docker Hub.
        Descriptor rebuiltBase = blobs.add(new TestLayers.Layer().dir("bin").dir("etc").dir("usr").dir("usr/lib", 0750, 0)
                .dir("tmp", 01777, 0).file("bin/ls", LS).hardlink("bin/dir", "bin/ls").file("bin/cat", CAT).file("etc/os-release", OS, 0644, 0).bytes());
        Descriptor app1 = blobs.add(new TestLayers.Layer().file("usr/lib/libx", ENV).file("usr/lib/liby", YES, 0644, 0)
                .file("bin/true", TRUE).bytes());
        Descriptor app2 = blobs.add(new TestLayers.Layer().file("usr/lib/libx", ENV).file("usr/lib/liby", YES, 0644, 0)
                .dir("srv", 0700, 33).file("srv/echo", ECHO, 0750, 33).bytes());
        // Image 3 overrides bin/ls, whites out bin/cat, and splits the app over two layers.
        Descriptor app3a = blobs.add(new TestLayers.Layer().file("usr/lib/libx", ENV).file("bin/ls", ECHO)
                .whiteout("bin/cat").bytes());
        Descriptor app3b = blobs.add(new TestLayers.Layer().file("usr/lib/liby", YES, 0644, 0)
                .symlink("bin/list", "ls").bytes());
        images = List.of(blobs.image("app1:1", base, app1), blobs.image("app2:1", rebuiltBase, app2),
                blobs.image("app3:1", base, app3a, app3b));
    }

    @Test
    void analysisCountsVisibleDuplicatesAcrossDistinctLayers(@TempDir Path work) throws IOException {
        Refactorer.Analysis a = new Refactorer(work).analyze(images, blobs);
        AnalysisReport r = a.report();
        // Base files twice (two base digests), libx and liby three times each, and echo at two paths.
        assertEquals(LS.length + CAT.length + OS.length + 2L * ENV.length + 2L * YES.length + ECHO.length,
                r.redundantBytes());
        assertEquals(LS.length + CAT.length + OS.length + ENV.length + YES.length + TRUE.length + ECHO.length,
                r.idealBytes());
        assertEquals(r.idealBytes() + r.redundantBytes(), r.totalBytes());
        assertEquals(3, r.images());
        AnalysisReport.ImageStats third = r.perImage().get(2);
        assertEquals(ECHO.length + ENV.length + YES.length + OS.length, third.bytes()); // cat gone, ls overridden
        assertEquals(0, third.redundantBytes());
        String libx = a.trees().get(0).get("usr/lib/libx").sha256();
        assertEquals(3, a.contents().holders(libx).size());
        assertTrue(new RedundancyThreshold(0.3, 1).exceededBy(r));
        assertFalse(new RedundancyThreshold(0.9, 1).exceededBy(r));
    }

    @Test
    void pathModeKeepsEveryRootFilesystemAndRemovesTheRedundancy(@TempDir Path work) throws IOException {
        Refactorer.Result res = new Refactorer(work).refactor(images, blobs, PlanOptions.DEFAULT);
        assertTreesEqual(res);
        // Left: echo (app2's srv/echo and app3's bin/ls share content at different paths) and ls, because
        // app3's bin/dir, a hard link to the overridden base bin/ls, must become a file of its own.
        assertEquals(ECHO.length + LS.length, res.after().redundantBytes());
        assertTrue(res.before().redundantBytes() > 0);
        assertEquals(res.before().idealBytes(), res.after().idealBytes());
        assertTrue(res.blobBytesAfter() < res.blobBytesBefore(), res.blobBytesAfter() + " vs " + res.blobBytesBefore());
        // {all three}: os-release, libx, liby; {1,2}: ls, cat.
        assertEquals(2, res.plan().shared().size());
        assertEquals(List.of(0, 1, 2), res.plan().shared().get(0).images());
        assertEquals(Set.of("usr/lib/libx", "usr/lib/liby", "etc/os-release"), files(res.plan().shared().get(0)));
        // The hard link travels with its target.
        assertEquals(Set.of("bin/ls", "bin/dir", "bin/cat"), files(res.plan().shared().get(1)));
        assertEquals(FileType.HARDLINK, res.plan().shared().get(1).entries().stream()
                .filter(e -> e.path().equals("bin/dir")).findFirst().orElseThrow().type());
        assertEquals(FileType.REGULAR, res.plan().images().get(2).uniqueEntries().stream()
                .filter(e -> e.path().equals("bin/dir")).findFirst().orElseThrow().type());
        // Parents go into a shared layer only where all its users agree: usr/lib's mode differs.
        Set<String> dirs = new java.util.HashSet<>();
        res.plan().shared().get(0).entries().stream().filter(e -> e.type() == FileType.DIRECTORY)
                .forEach(e -> dirs.add(e.path()));
        assertEquals(Set.of("usr", "etc"), dirs);
        assertEquals(3, res.images().get(0).layers().size());
        assertEquals(2, res.images().get(2).layers().size());
        assertEquals(res.images().get(0).layers().get(0), res.images().get(2).layers().get(0));
    }

    @Test
    void configsGetNewDiffIdsAndHistory(@TempDir Path work) throws IOException {
        Refactorer.Result res = new Refactorer(work).refactor(images, blobs, PlanOptions.DEFAULT);
        for (Refactorer.RefactoredImage img : res.images()) {
            JsonNode config = new ObjectMapper().readTree(img.assembled().config());
            List<String> diffIds = new ArrayList<>();
            config.path("rootfs").path("diff_ids").forEach(n -> diffIds.add(n.asText()));
            assertEquals(img.layers().stream().map(l -> l.diffId().toString()).toList(), diffIds);
            int nonEmpty = 0;
            int empty = 0;
            for (JsonNode h : config.path("history")) {
                if (h.path("empty_layer").asBoolean()) {
                    empty++;
                } else {
                    nonEmpty++;
                }
            }
            assertEquals(img.layers().size(), nonEmpty);
            assertEquals(1, empty);
            assertEquals("/bin/sh", config.path("config").path("Cmd").get(0).asText());
            JsonNode manifest = new ObjectMapper().readTree(img.assembled().manifest());
            assertEquals(img.assembled().configDigest().toString(), manifest.path("config").path("digest").asText());
            assertEquals(img.layers().size(), manifest.path("layers").size());
        }
    }

    @Test
    void outputIsDeterministic(@TempDir Path w1, @TempDir Path w2) throws IOException {
        Refactorer.Result a = new Refactorer(w1).refactor(images, blobs, PlanOptions.DEFAULT);
        Refactorer.Result b = new Refactorer(w2).refactor(images, blobs, PlanOptions.DEFAULT);
        for (int i = 0; i < images.size(); i++) {
            assertEquals(a.images().get(i).assembled().manifestDigest(), b.images().get(i).assembled().manifestDigest());
        }
    }

    @Test
    void minFileSizeKeepsSmallFilesPut(@TempDir Path work) throws IOException {
        long min = ENV.length;
        Refactorer.Result res = new Refactorer(work).refactor(images, blobs, new PlanOptions(Mode.PATH, min, 100));
        assertTreesEqual(res);
        for (RefactorPlan.SharedLayer s : res.plan().shared()) {
            for (FileEntry e : s.entries()) {
                assertTrue(e.type() == FileType.DIRECTORY || e.size() >= min, e.path());
            }
        }
        assertEquals(Set.of("usr/lib/libx"), files(res.plan().shared().get(0)));
        assertTrue(res.after().redundantBytes() > 0); // cat, yes, os-release stay duplicated
    }

    @Test
    void layerCapDissolvesTheGroupsSavingLeast(@TempDir Path work) throws IOException {
        Refactorer.Result res = new Refactorer(work).refactor(images, blobs, new PlanOptions(Mode.PATH, 0, 2));
        assertTreesEqual(res);
        for (Refactorer.RefactoredImage img : res.images()) {
            assertTrue(img.layers().size() <= 2);
        }
        // {1,2} saves ls+cat, more than {1,2,3} saves with two copies of os-release+libx+liby.
        assertEquals(1, res.plan().shared().size());
        assertEquals(Set.of("bin/ls", "bin/dir", "bin/cat"), files(res.plan().shared().get(0)));
    }

    @Test
    void symlinkModeReproducesTheResearchLayout(@TempDir Path work) throws IOException {
        Refactorer.Result res = new Refactorer(work).refactor(images, blobs, new PlanOptions(Mode.SYMLINK, 0, 100));
        ImageTree original = ImageTree.of("o", scanOriginal(images.get(0)));
        ImageTree refactored = ImageTree.of("r", scanBuilt(res.images().get(0)));
        FileEntry libx = refactored.get("usr/lib/libx");
        assertEquals(FileType.SYMLINK, libx.type());
        String sha = original.get("usr/lib/libx").sha256();
        assertEquals("/" + SharedLayerPlanner.SHARED_DIR + "/" + sha, libx.linkTarget());
        assertEquals(sha, refactored.get(SharedLayerPlanner.SHARED_DIR + "/" + sha).sha256());
        assertNotEquals(TestLayers.view(original), TestLayers.view(refactored));
        assertEquals(FileType.REGULAR, refactored.get("bin/true").type()); // unique content stays
        assertEquals(0, res.after().redundantBytes());
    }

    static Set<String> files(RefactorPlan.SharedLayer s) {
        Set<String> out = new java.util.HashSet<>();
        for (FileEntry e : s.entries()) {
            if (e.type() != FileType.DIRECTORY) {
                out.add(e.path());
            }
        }
        return out;
    }

    void assertTreesEqual(Refactorer.Result res) throws IOException {
        for (int i = 0; i < images.size(); i++) {
            Map<String, String> before = TestLayers.view(ImageTree.of("o", scanOriginal(images.get(i))));
            Map<String, String> after = TestLayers.view(ImageTree.of("r", scanBuilt(res.images().get(i))));
            assertEquals(new TreeMap<>(before), new TreeMap<>(after), images.get(i).name());
        }
    }

    List<ScannedLayer> scanOriginal(SourceImage img) throws IOException {
        List<ScannedLayer> out = new ArrayList<>();
        for (Descriptor d : img.layers()) {
            try (InputStream in = blobs.open(d)) {
                out.add(LayerScanner.scan(in, d.mediaType(), d.digest(), null));
            }
        }
        return out;
    }

    static List<ScannedLayer> scanBuilt(Refactorer.RefactoredImage img) throws IOException {
        List<ScannedLayer> out = new ArrayList<>();
        for (BuiltLayer l : img.layers()) {
            try (InputStream in = Files.newInputStream(l.file())) {
                ScannedLayer s = LayerScanner.scan(in, MediaTypes.OCI_LAYER_GZIP, l.digest(), null);
                assertEquals(l.diffId(), TestLayers.diffId(l.file()));
                out.add(s);
            }
        }
        return out;
    }
}
