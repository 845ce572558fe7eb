package io.layerswarm.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.ImageIndex;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.oci.Platform;
import io.layerswarm.testing.RegistryFixture.Mode;
import io.layerswarm.testing.RegistryFixture;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Cross-checks RegistryClient with an independent client, skopeo, in both directions. */
class SkopeoInteropIT {
    static final Path SKOPEO = Path.of("/usr/bin/skopeo");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static String run(List<String> cmd) throws Exception {
        if (!Files.isExecutable(SKOPEO)) {
            fail("skopeo is missing: install the Debian package 'skopeo' (scripts/install-system-packages.sh)");
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "command failed: " + cmd + "\n" + text);
        return text;
    }

    static List<String> skopeo(RegistryFixture reg, String... args) {
        List<String> cmd = new ArrayList<>(List.of(SKOPEO.toString(), "--insecure-policy"));
        cmd.add(args[0]);
        if (reg.mode() != Mode.PLAIN) {
            cmd.add(args[0].equals("copy") ? "--dest-creds" : "--creds");
            cmd.add(reg.username() + ":" + reg.password());
            if (args[0].equals("copy")) {
                cmd.add("--src-creds");
                cmd.add(reg.username() + ":" + reg.password());
            }
        }
        cmd.addAll(List.of(args).subList(1, args.length));
        return cmd;
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"PLAIN", "TOKEN"})
    void skopeoReadsWhatWePushAndWeReadWhatSkopeoPushes(Mode mode) throws Exception {
        try (RegistryFixture reg = RegistryFixture.start(mode)) {
            RegistryClient c = RegistryClientIT.client(reg);
            TestImages.Image img = TestImages.image(21, "amd64", 70_000, 300_000);
            RegistryClientIT.pushImage(c, "ours/app", img, tmp);
            c.putManifest("ours/app", "v1", img.manifestBytes(), MediaTypes.OCI_MANIFEST);

            JsonNode inspect = JSON.readTree(run(skopeo(reg, "inspect", "--tls-verify=false",
                    "docker://" + reg.hostPort() + "/ours/app:v1")));
            assertEquals(img.manifest().digest().toString(), inspect.get("Digest").asText());
            assertEquals(img.layers().stream().map(l -> l.digest().toString()).toList(),
                    JSON.convertValue(inspect.get("Layers"), List.class));
            assertEquals("amd64", inspect.get("Architecture").asText());

            Path layout = tmp.resolve("oci-copy");
            run(skopeo(reg, "copy", "--src-tls-verify=false", "docker://" + reg.hostPort() + "/ours/app:v1",
                    "oci:" + layout + ":v1"));
            for (TestImages.Blob l : img.layers()) {
                assertArrayEquals(l.data(), Files.readAllBytes(layout.resolve("blobs/sha256/" + l.digest().hex())));
            }

            // The other way: an OCI layout written by hand, pushed by skopeo, read by us.
            TestImages.Image theirs = TestImages.image(22, "amd64", 40_000);
            Path src = writeLayout(tmp.resolve("oci-src"), theirs);
            run(skopeo(reg, "copy", "--dest-tls-verify=false", "oci:" + src + ":t1",
                    "docker://" + reg.hostPort() + "/theirs/app:t1"));
            ResolvedImage r = c.resolveImage("theirs/app", "t1", Platform.linuxAmd64());
            assertEquals(theirs.manifest().layers(), r.manifest().layers());
            for (Descriptor l : r.manifest().layers()) {
                try (InputStream in = c.openBlob("theirs/app", l.digest(), l.size())) {
                    assertArrayEquals(theirs.layers().get(0).data(), in.readAllBytes());
                }
            }

            // Docker schema 2, as skopeo writes it with --format v2s2.
            run(skopeo(reg, "copy", "--dest-tls-verify=false", "--format", "v2s2", "oci:" + src + ":t1",
                    "docker://" + reg.hostPort() + "/theirs/docker:t1"));
            ResolvedImage d = c.resolveImage("theirs/docker", "t1", Platform.linuxAmd64());
            assertEquals(MediaTypes.DOCKER_MANIFEST, d.manifestResponse().mediaType());
            assertEquals(MediaTypes.DOCKER_MANIFEST, d.manifest().mediaType());
            assertEquals(MediaTypes.DOCKER_CONFIG, d.manifest().config().mediaType());
            assertEquals(MediaTypes.DOCKER_LAYER_GZIP, d.manifest().layers().get(0).mediaType());
            assertEquals(theirs.layers().get(0).digest(), d.manifest().layers().get(0).digest());
            io.layerswarm.oci.ImageConfig cfg = io.layerswarm.oci.ImageConfig.parse(
                    c.fetchBlob("theirs/docker", d.manifest().config().digest(), 1 << 20));
            assertEquals(theirs.manifest().layers().size(), cfg.diffIds().size());
        }
    }

    /** A minimal OCI image layout (image-spec "image-layout"). */
    static Path writeLayout(Path dir, TestImages.Image img) throws Exception {
        Path blobs = Files.createDirectories(dir.resolve("blobs/sha256"));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        for (TestImages.Blob b : img.layers()) {
            Files.write(blobs.resolve(b.digest().hex()), b.data());
        }
        Files.write(blobs.resolve(img.config().digest().hex()), img.config().data());
        byte[] manifest = img.manifestBytes();
        Files.write(blobs.resolve(img.manifest().digest().hex()), manifest);
        Descriptor md = img.manifest().descriptor(null).withAnnotation("org.opencontainers.image.ref.name", "t1");
        ImageIndex index = new ImageIndex(MediaTypes.OCI_INDEX, List.of(md), Map.of(), null);
        Files.write(dir.resolve("index.json"), index.toJson());
        return dir;
    }
}
