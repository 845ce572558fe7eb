package io.layerswarm.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Builds the small corpus with the real script, pushes it to a real registry, reads it back. */
class CorpusIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String run(Path cwd, String... cmd) throws Exception {
        Path out = Files.createTempFile("corpus-it-", ".log");
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "timed out: " + List.of(cmd));
        String s = Files.readString(out);
        Files.delete(out);
        assertEquals(0, p.exitValue(), () -> List.of(cmd) + " failed:\n" + s);
        return s;
    }

    @Test
    void scriptBuildsPushesAndImagesUnpack(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("corpus");
        try (RegistryFixture reg = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            run(tmp, "bash", Corpus.script().toString(), "--set", "small", "--out", out.toString(),
                    "--push", reg.baseUri().toString());
            Corpus c = Corpus.load(out);
            c.checkBlobs();
            assertEquals(Set.of("demo-httpd:1", "clock:1", "clock:2"),
                    c.images().stream().map(Corpus.Image::ref).collect(Collectors.toSet()));
            long total = c.images().stream().mapToLong(Corpus.Image::totalSize).sum();
            assertTrue(total > 1_000_000 && total < 10_000_000, "small set size " + total);

            for (Corpus.Image img : c.images()) {
                String remote = "docker://" + reg.hostPort() + "/" + img.ref();
                JsonNode insp = JSON.readTree(run(tmp, "skopeo", "inspect", "--tls-verify=false", remote));
                assertEquals(img.manifestDigest(), insp.get("Digest").asText(), img.ref());
                List<String> remoteLayers = new ArrayList<>();
                insp.get("Layers").forEach(n -> remoteLayers.add(n.asText()));
                assertEquals(img.layers().stream().map(Corpus.Layer::digest).toList(), remoteLayers, img.ref());

                // round trip through the registry, then unpack with umoci
                Path back = tmp.resolve("back-" + img.name() + "-" + img.tag());
                run(tmp, "skopeo", "copy", "-q", "--src-tls-verify=false", remote, "oci:" + back + ":" + img.tag());
                Path bundle = tmp.resolve("bundle-" + img.name() + "-" + img.tag());
                run(tmp, "umoci", "unpack", "--image", back + ":" + img.tag(), bundle.toString());
                Path rootfs = bundle.resolve("rootfs");
                Path busybox = rootfs.resolve("usr/bin/busybox");
                assertTrue(Files.isRegularFile(busybox), "busybox in " + img.ref());
                byte[] head = new byte[4];
                try (var in = Files.newInputStream(busybox)) {
                    assertEquals(4, in.read(head));
                }
                assertArrayEquals(new byte[] {0x7f, 'E', 'L', 'F'}, head, "busybox is an ELF binary");
                assertTrue(Files.isSymbolicLink(rootfs.resolve("bin")), "merged-usr /bin symlink");
                assertEquals("usr/bin", Files.readSymbolicLink(rootfs.resolve("bin")).toString());
                if (img.name().equals("demo-httpd")) {
                    assertTrue(Files.isRegularFile(rootfs.resolve("etc/services")), "netbase /etc/services");
                    assertTrue(Files.readString(rootfs.resolve("usr/local/bin/entrypoint.sh")).contains("httpd"));
                } else {
                    assertTrue(Files.isRegularFile(rootfs.resolve("usr/share/zoneinfo/Europe/Berlin")), "tzdata");
                    assertTrue(Files.isRegularFile(rootfs.resolve("etc/os-release")) || Files.isSymbolicLink(rootfs.resolve("etc/os-release")),
                            "base-files os-release");
                    String tz = Files.readString(rootfs.resolve("etc/timezone"), StandardCharsets.UTF_8).trim();
                    assertEquals(img.tag().equals("1") ? "Etc/UTC" : "Europe/Berlin", tz);
                    if (img.tag().equals("2")) {
                        assertTrue(Files.isRegularFile(rootfs.resolve("etc/mime.types")), "media-types in clock:2");
                    }
                }
            }

            // corpus shape: clock:2 is an update of clock:1 sharing the base layer; demo-httpd holds the
            // same busybox binary in a layer with a different digest.
            Corpus.Image c1 = c.image("clock:1");
            Corpus.Image c2 = c.image("clock:2");
            Corpus.Image demo = c.image("demo-httpd:1");
            assertEquals(c1.layers().get(0).digest(), c2.layers().get(0).digest());
            assertNotEquals(c1.layers().get(1).digest(), c2.layers().get(1).digest());
            assertNotEquals(c1.layers().get(0).digest(), demo.layers().get(0).digest());
            assertTrue(demo.layers().get(0).packages().stream().anyMatch(p -> p.startsWith("busybox-static=")));

            // images-json.sh turns corpus.json into the cache simulator's images file
            JsonNode imagesJson = JSON.readTree(run(tmp, "bash",
                    Corpus.script().resolveSibling("images-json.sh").toString(), out.resolve("corpus.json").toString()));
            assertEquals(3, imagesJson.size());
            for (Corpus.Image img : c.images()) {
                JsonNode layers = imagesJson.get(img.ref()).get("layers");
                assertEquals(img.layers().size(), layers.size());
                for (int i = 0; i < layers.size(); i++) {
                    assertEquals(img.layers().get(i).digest(), layers.get(i).get("digest").asText());
                    assertEquals(img.layers().get(i).size(), layers.get(i).get("size").asLong());
                    assertEquals(Files.size(img.blob(img.layers().get(i).digest())), layers.get(i).get("size").asLong());
                }
            }

            // Corpus.small() (cached build of the same script) is bit-identical when the package versions match
            Corpus cached = Corpus.small();
            for (Corpus.Image img : c.images()) {
                Corpus.Image other = cached.image(img.ref());
                List<String> pk = img.layers().stream().flatMap(l -> l.packages().stream()).toList();
                List<String> opk = other.layers().stream().flatMap(l -> l.packages().stream()).toList();
                if (pk.equals(opk)) {
                    assertEquals(img.manifestDigest(), other.manifestDigest(), "deterministic build of " + img.ref());
                }
            }
            // and Corpus.pushTo puts it in the registry under the same digests
            List<String> pushed = cached.pushTo(reg.baseUri().toString());
            assertEquals(3, pushed.size());
            for (Corpus.Image img : cached.images()) {
                JsonNode insp = JSON.readTree(run(tmp, "skopeo", "inspect", "--tls-verify=false",
                        "docker://" + reg.hostPort() + "/" + img.ref()));
                assertEquals(img.manifestDigest(), insp.get("Digest").asText());
            }
        }
    }

    @Test
    void scriptRefusesBadArgumentsBeforeTouchingAnything(@TempDir Path tmp) throws Exception {
        String script = Corpus.script().toString();
        List<List<String>> bad = List.of(
                List.of("--set", "huge", "--out", tmp.resolve("a").toString()),
                List.of("--set", "small"),
                List.of("--set", "small", "--out", tmp.resolve("b").toString(), "--push", "http://10.0.0.1:5000"),
                List.of("--set", "small", "--out", tmp.resolve("c").toString(), "--push", "https://127.0.0.1:5000"),
                List.of("--set", "small", "--out", tmp.resolve("d").toString(), "--only", "no-such:1"));
        for (List<String> args : bad) {
            List<String> cmd = new ArrayList<>(List.of("bash", script));
            cmd.addAll(args);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String outText = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(2, TimeUnit.MINUTES));
            assertEquals(1, p.exitValue(), args + ": " + outText);
            assertTrue(outText.contains("build-corpus: error:"), args + ": " + outText);
        }
        assertTrue(Files.notExists(tmp.resolve("b").resolve("corpus.json")));
    }
}
