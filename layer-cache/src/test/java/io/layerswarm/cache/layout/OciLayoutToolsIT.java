package io.layerswarm.cache.layout;

import static io.layerswarm.cache.tools.Tools.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.cache.tools.TarBuilder;
import io.layerswarm.cache.tools.TestImage;
import io.layerswarm.cache.tools.Tools;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.ImageManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layouts we write are read by the real skopeo and umoci; layouts umoci writes are read by us. */
class OciLayoutToolsIT {
    @TempDir
    Path tmp;

    @Test
    void skopeoAndUmociReadOurLayout() throws Exception {
        Tools.require("skopeo");
        Tools.require("umoci");
        Path dir = tmp.resolve("layout");
        TestImage image;
        try (ContentStore store = ContentStore.open(tmp.resolve("store"))) {
            image = TestImage.create(store, new TarBuilder().dir("etc", 0755).file("etc/motd", "hello from layerswarm\n"));
            OciLayoutWriter w = OciLayoutWriter.create(dir);
            for (Descriptor d : image.blobs()) {
                w.addBlob(store, d.digest());
            }
            w.tag(image.manifest(), "v1");
            w.tag(image.manifest(), "latest");
            w.commit();
        }

        JsonNode inspect = new ObjectMapper().readTree(run(tmp, "skopeo", "inspect", "oci:" + dir + ":v1"));
        assertEquals(image.manifest().digest().toString(), inspect.get("Digest").asText());
        assertEquals(image.manifest().layers().get(0).digest().toString(), inspect.get("Layers").get(0).asText());
        assertEquals("amd64", inspect.get("Architecture").asText());

        Set<String> tags = new TreeSet<>(List.of(run(tmp, "umoci", "ls", "--layout", dir.toString()).trim().split("\\s+")));
        assertEquals(Set.of("latest", "v1"), tags);
        run(tmp, "umoci", "unpack", "--image", dir + ":latest", "bundle");
        assertEquals("hello from layerswarm\n", Files.readString(tmp.resolve("bundle/rootfs/etc/motd")));
    }

    @Test
    void weReadUmocisLayout() throws Exception {
        Tools.require("umoci");
        run(tmp, "umoci", "init", "--layout", "img");
        run(tmp, "umoci", "new", "--image", "img:base");
        run(tmp, "umoci", "tag", "--image", "img:base", "other");
        OciLayoutReader r = OciLayoutReader.open(tmp.resolve("img"));
        assertEquals(Set.of("base", "other"), new TreeSet<>(r.refs()));
        ImageManifest m = r.manifest("base");
        assertTrue(r.readBlob(m.config()).length > 0);
        assertEquals(0, m.layers().size());
    }
}
