package io.layerswarm.refactor;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.refactor.index.FileEntry;
import io.layerswarm.refactor.index.FileType;
import io.layerswarm.refactor.index.ImageTree;
import io.layerswarm.refactor.index.LayerScanner;
import io.layerswarm.refactor.index.ScannedLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeltaTest {
    static final byte[] LS = TestLayers.real("/usr/bin/ls");
    static final byte[] CAT = TestLayers.real("/usr/bin/cat");
    static final byte[] ENV = TestLayers.real("/usr/bin/env");
    static final byte[] YES = TestLayers.real("/usr/bin/yes");
    static final byte[] ECHO = TestLayers.real("/usr/bin/echo");

    @Test
    void sourcePlusDeltaEqualsTarget(@TempDir Path work) throws IOException {
        TestLayers.Blobs blobs = new TestLayers.Blobs();
        Descriptor base = blobs.add(new TestLayers.Layer().dir("bin").dir("lib").file("bin/ls", LS).file("bin/cat", CAT)
                .dir("doc").dir("doc/old").file("doc/old/readme", YES, 0644, 0).bytes());
        Descriptor v1 = blobs.add(new TestLayers.Layer().file("lib/libapp.so.1", ENV).file("bin/app", ECHO).bytes());
        // v2: a rebuilt app layer repeating unchanged files, a changed library, a removed doc tree,
        // a mode change, and a file that replaces a directory.
        Descriptor v2 = blobs.add(new TestLayers.Layer().file("lib/libapp.so.2", YES).file("bin/app", ECHO)
                .whiteout("lib/libapp.so.1").whiteout("doc/old").file("bin/cat", CAT, 0700, 0).bytes());
        Descriptor v2b = blobs.add(new TestLayers.Layer().file("doc", LS, 0644, 0).bytes());
        SourceImage a = blobs.image("app:1", base, v1);
        SourceImage b = blobs.image("app:2", base, v2, v2b);

        Refactorer.Delta d = new Refactorer(work).delta(a, b, blobs);
        ImageTree treeA = ImageTree.of("a", scan(blobs, a));
        ImageTree treeB = ImageTree.of("b", scan(blobs, b));
        List<ScannedLayer> applied = new ArrayList<>(scan(blobs, a));
        try (InputStream in = Files.newInputStream(d.layer().file())) {
            applied.add(LayerScanner.scan(in, MediaTypes.OCI_LAYER_GZIP, d.layer().digest(), null));
        }
        assertEquals(TestLayers.view(treeB), TestLayers.view(ImageTree.of("a+delta", applied)));
        assertEquals(v2.size() + v2b.size(), d.updateBytes());
        // Every file of the update has content A holds: bin/app, doc (= ls), bin/cat (mode change only)
        // and libapp.so.2 (= A's doc/old/readme).
        assertEquals(ECHO.length + LS.length + CAT.length + YES.length, d.duplicatedBytes());
        assertTrue(d.deltaBytes() < d.updateBytes());
        List<String> paths = d.entries().stream().map(FileEntry::path).sorted().toList();
        assertEquals(List.of("bin/cat", "doc", "lib/libapp.so.1", "lib/libapp.so.2"), paths);
        assertEquals(FileType.WHITEOUT, d.entries().stream().filter(e -> e.path().equals("lib/libapp.so.1"))
                .findFirst().orElseThrow().type());
        assertTrue(treeA.get("doc").type() == FileType.DIRECTORY);
    }

    static List<ScannedLayer> scan(TestLayers.Blobs blobs, SourceImage img) throws IOException {
        List<ScannedLayer> out = new ArrayList<>();
        for (Descriptor desc : img.layers()) {
            try (InputStream in = blobs.open(desc)) {
                out.add(LayerScanner.scan(in, desc.mediaType(), desc.digest(), null));
            }
        }
        return out;
    }
}
