package io.layerswarm.refactor;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageConfig;
import io.layerswarm.refactor.build.BuiltLayer;
import io.layerswarm.refactor.build.ImageAssembler;
import io.layerswarm.testing.Corpus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Image A's layers plus the delta layer unpack, with the real umoci, to exactly image B's tree. */
class DeltaUmociIT {
    @Test
    void olderImagePlusDeltaUnpacksToTheNewerImage(@TempDir Path tmp) throws Exception {
        Umoci.require();
        Corpus corpus = Corpus.small();
        Corpus.Image a = corpus.image("clock:1");
        Corpus.Image b = corpus.image("clock:2");
        SourceImage from = RefactorUmociIT.sourceOf(a);
        SourceImage to = RefactorUmociIT.sourceOf(b);
        Refactorer.Delta d = new Refactorer(tmp.resolve("work")).delta(from, to, RefactorUmociIT.layoutBlobs(corpus));
        assertTrue(d.deltaBytes() > 0);

        List<Digest> diffIds = ImageConfig.parse(from.config()).diffIds();
        List<ImageAssembler.LayerInfo> layers = new ArrayList<>();
        Map<Digest, Path> files = new LinkedHashMap<>();
        for (int i = 0; i < from.layers().size(); i++) {
            Descriptor l = from.layers().get(i);
            Path f = a.blob(l.digest().toString());
            layers.add(new ImageAssembler.LayerInfo(new BuiltLayer(l.digest(), diffIds.get(i), l.size(), f), "original"));
            files.put(l.digest(), f);
        }
        layers.add(new ImageAssembler.LayerInfo(d.layer(), "delta"));
        files.put(d.layer().digest(), d.layer().file());
        ImageAssembler.Assembled img = ImageAssembler.assemble(from.config(), layers, Map.of());
        Path layout = tmp.resolve("a-plus-delta");
        Umoci.writeLayout(layout, "x", img.manifest(), img.config(), files);

        Map<String, String> expected = Umoci.snapshot(Umoci.unpack(b.layoutDir(), b.tag(), tmp.resolve("b")));
        Map<String, String> actual = Umoci.snapshot(Umoci.unpack(layout, "x", tmp.resolve("a+d")));
        assertEquals(expected, actual);
        assertTrue(!expected.equals(Umoci.snapshot(Umoci.unpack(a.layoutDir(), a.tag(), tmp.resolve("a")))),
                "clock:1 and clock:2 differ, so the delta has work to do");
    }
}
