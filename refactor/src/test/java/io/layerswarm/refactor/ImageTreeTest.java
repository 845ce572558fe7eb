package io.layerswarm.refactor;

import io.layerswarm.oci.MediaTypes;
import io.layerswarm.refactor.index.FileType;
import io.layerswarm.refactor.index.ImageTree;
import io.layerswarm.refactor.index.LayerScanner;
import io.layerswarm.refactor.index.ScannedLayer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ImageTreeTest {
    private static final byte[] LS = TestLayers.real("/usr/bin/ls");
    private static final byte[] CAT = TestLayers.real("/usr/bin/cat");
    private static final byte[] ENV = TestLayers.real("/usr/bin/env");

    static List<ScannedLayer> scan(byte[]... blobs) throws IOException {
        List<ScannedLayer> out = new ArrayList<>();
        for (byte[] b : blobs) {
            out.add(LayerScanner.scan(new ByteArrayInputStream(b), MediaTypes.OCI_LAYER_GZIP, null, null));
        }
        return out;
    }

    @Test
    void overridesWhiteoutsAndOpaqueDirectories() throws IOException {
        byte[] base = new TestLayers.Layer().dir("bin").file("bin/ls", LS).file("bin/cat", CAT)
                .dir("etc").file("etc/a", ENV).file("etc/b", LS).dir("opt").dir("opt/x").file("opt/x/f", CAT).bytes();
        byte[] top = new TestLayers.Layer().file("bin/ls", ENV) // override
                .whiteout("bin/cat").opaque("etc").file("etc/c", CAT) // whiteout, opaque dir + new file
                .file("opt/x", LS) // a file hides the directory below
                .file("bin/cat", LS) // same-layer entry survives its own layer's whiteout
                .bytes();
        ImageTree t = ImageTree.of("img", scan(base, top));
        assertEquals(List.of("bin", "bin/cat", "bin/ls", "etc", "etc/c", "opt", "opt/x"), TestLayers.paths(t));
        assertEquals(t.get("etc/c").sha256(), LayerScanner.hash(new ByteArrayInputStream(CAT)));
        assertEquals(t.get("bin/ls").sha256(), LayerScanner.hash(new ByteArrayInputStream(ENV)));
        assertEquals(1, t.paths().get("bin/ls").layer());
        assertEquals(0, t.paths().get("bin").layer());
        assertEquals(FileType.REGULAR, t.get("opt/x").type());
        assertNull(t.get("opt/x/f"));
        assertNull(t.get("etc/a"));
    }

    @Test
    void hardLinksCarryTheirTargetsContent() throws IOException {
        byte[] base = new TestLayers.Layer().dir("bin").file("bin/ls", LS).hardlink("bin/dir", "bin/ls").bytes();
        ImageTree t = ImageTree.of("img", scan(base));
        assertEquals(FileType.HARDLINK, t.get("bin/dir").type());
        assertEquals(t.get("bin/ls").sha256(), t.get("bin/dir").sha256());
        assertEquals(LS.length, t.get("bin/dir").size());
    }
}
