package io.layerswarm.refactor;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.refactor.build.BuiltLayer;
import io.layerswarm.refactor.plan.Mode;
import io.layerswarm.refactor.plan.PlanOptions;
import io.layerswarm.oci.ImageReference;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Refactored images unpack, with the real umoci, to exactly the trees of the originals: content,
 * type, mode, owner and link targets of every path.
 */
class RefactorUmociIT {
    @BeforeAll
    static void tools() throws Exception {
        Umoci.require();
        Skopeo.require();
    }

    @Test
    void everySmallCorpusImageUnpacksIdenticallyAfterRefactoringThroughARegistry(@TempDir Path tmp) throws Exception {
        Corpus corpus = Corpus.small();
        try (RegistryFixture reg = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            corpus.pushTo(reg.baseUri().toString());
            RegistryClient client = RegistryClient.builder(reg.baseUri()).build();
            RegistryImages registry = new RegistryImages(client, Platform.linuxAmd64());
            List<ImageReference> refs = new ArrayList<>();
            List<SourceImage> images = new ArrayList<>();
            for (Corpus.Image img : corpus.images()) {
                ImageReference ref = ImageReference.parse(img.ref());
                refs.add(ref);
                images.add(registry.load(ref));
            }
            Refactorer.Result r = new Refactorer(tmp.resolve("work")).refactor(images, registry, PlanOptions.DEFAULT);
            assertTrue(r.plan().shared().size() > 0, "the small corpus shares files (base-files, busybox)");
            assertTrue(r.after().redundantBytes() < r.before().redundantBytes());
            List<RegistryImages.Pushed> pushed = registry.pushAll(refs, r, "-rf");
            assertTrue(pushed.stream().mapToInt(RegistryImages.Pushed::mounted).sum() > 0,
                    "shared layers reach other repositories by cross-repository mount: " + pushed);
            for (int i = 0; i < images.size(); i++) {
                Corpus.Image img = corpus.images().get(i);
                assertEquals(img.manifestDigest(), client.headManifest(img.name(), img.tag()).orElseThrow()
                        .digest().toString(), "original tag untouched");
                Path back = tmp.resolve("back-" + i);
                Skopeo.copy("docker://" + reg.hostPort() + "/" + img.name() + ":" + img.tag() + "-rf",
                        "oci:" + back + ":rf");
                Path orig = Umoci.unpack(img.layoutDir(), img.tag(), tmp.resolve("orig-" + i));
                Path refd = Umoci.unpack(back, "rf", tmp.resolve("rf-" + i));
                Map<String, String> expected = Umoci.snapshot(orig);
                assertTrue(expected.size() > 10, img.ref() + " unpacked to almost nothing");
                assertEquals(expected, Umoci.snapshot(refd), img.ref());
            }
            // The explicit switch moves the original tag to the refactored manifest.
            Digest switched = registry.switchTag(refs.get(0), "-rf");
            assertEquals(pushed.get(0).manifest(), switched);
            assertEquals(switched, client.headManifest(refs.get(0).repository(), refs.get(0).tag()).orElseThrow().digest());
        }
    }

    @Test
    void overrideAndWhiteoutSurviveRefactoring(@TempDir Path tmp) throws Exception {
        RefactorerTest fixture = new RefactorerTest();
        fixture.corpus();
        Refactorer.Result r = new Refactorer(tmp.resolve("work")).refactor(fixture.images, fixture.blobs,
                PlanOptions.DEFAULT);
        Map<String, String> refactoredApp3 = null;
        for (int i = 0; i < fixture.images.size(); i++) {
            SourceImage img = fixture.images.get(i);
            Map<Digest, Path> layers = new LinkedHashMap<>();
            for (Descriptor d : img.layers()) {
                Path f = Files.write(tmp.resolve(d.digest().hex()), fixture.blobs.blobs.get(d.digest()));
                layers.put(d.digest(), f);
            }
            Path origLayout = tmp.resolve("orig-layout-" + i);
            Umoci.writeLayout(origLayout, "orig", Umoci.manifest(img.config(), img.layers()), img.config(), layers);
            Map<String, String> expected = Umoci.snapshot(Umoci.unpack(origLayout, "orig", tmp.resolve("orig-" + i)));
            Path rfRoot = Umoci.unpack(writeRefactored(tmp.resolve("rf-layout-" + i), r.images().get(i)), "rf",
                    tmp.resolve("rf-" + i));
            Map<String, String> actual = Umoci.snapshot(rfRoot);
            assertEquals(expected, actual, img.name());
            if (i == 2) {
                refactoredApp3 = actual;
                // the override: bin/ls holds echo's bytes, not the base layer's ls
                assertEquals(-1, Files.mismatch(rfRoot.resolve("bin/ls"), Path.of("/usr/bin/echo")));
                assertFalse(Files.exists(rfRoot.resolve("bin/cat"))); // the whiteout
            }
        }
        assertNotEquals(null, refactoredApp3);
        // app3 uses the shared layer holding app1's bin/ls, yet its own bin/ls wins
        assertEquals(2, r.images().get(2).layers().size());
        assertTrue(r.images().get(0).layers().size() == 3);
    }

    @Test
    void symlinkModeChangesTheTreeUnderUmoci(@TempDir Path tmp) throws Exception {
        Corpus corpus = Corpus.small();
        List<SourceImage> images = new ArrayList<>();
        for (Corpus.Image img : corpus.images()) {
            images.add(sourceOf(img));
        }
        Refactorer.Result r = new Refactorer(tmp.resolve("work")).refactor(images, layoutBlobs(corpus),
                new PlanOptions(Mode.SYMLINK, 0, 100));
        Corpus.Image img = corpus.images().get(0);
        Map<String, String> orig = Umoci.snapshot(Umoci.unpack(img.layoutDir(), img.tag(), tmp.resolve("o")));
        Map<String, String> rf = Umoci.snapshot(Umoci.unpack(writeRefactored(tmp.resolve("l"), r.images().get(0)),
                "rf", tmp.resolve("r")));
        assertTrue(rf.keySet().stream().anyMatch(p -> p.startsWith(".layerswarm-shared/")));
        assertNotEquals(orig, rf);
        assertTrue(r.after().redundantBytes() <= r.before().redundantBytes());
    }

    static SourceImage sourceOf(Corpus.Image img) throws IOException {
        byte[] config = Files.readAllBytes(img.blob(img.configDigest()));
        List<Descriptor> layers = new ArrayList<>();
        for (Corpus.Layer l : img.layers()) {
            layers.add(Descriptor.of(l.mediaType(), Digest.parse(l.digest()), l.size()));
        }
        return new SourceImage(img.ref(), config, layers);
    }

    static BlobSource layoutBlobs(Corpus corpus) {
        return d -> {
            for (Corpus.Image img : corpus.images()) {
                Path p = img.blob(d.digest().toString());
                if (Files.exists(p)) {
                    return Files.newInputStream(p);
                }
            }
            throw new IOException("blob " + d.digest() + " is in no corpus layout");
        };
    }

    static Path writeRefactored(Path dir, Refactorer.RefactoredImage img) throws IOException {
        Map<Digest, Path> blobs = new LinkedHashMap<>();
        for (BuiltLayer l : img.layers()) {
            blobs.put(l.digest(), l.file());
        }
        Umoci.writeLayout(dir, "rf", img.assembled().manifest(), img.assembled().config(), blobs);
        return dir;
    }
}
