package io.layerswarm.oci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class OciDocumentsTest {
    static final String D1 = "sha256:" + "a".repeat(64);
    static final String D2 = "sha256:" + "b".repeat(64);
    static final String D3 = "sha256:" + "c".repeat(64);

    static final String OCI_MANIFEST = """
            {
              "schemaVersion": 2,
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "%s", "size": 7023},
              "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "%s", "size": 32654},
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": "%s", "size": 16724,
                 "annotations": {"b": "2", "a": "1"}}
              ],
              "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
              "futureField": {"ignored": true}
            }""".formatted(D1, D2, D3);

    static final String DOCKER_MANIFEST = """
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
             "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"%s"},
             "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2814446,"digest":"%s"}]}
            """.formatted(D1, D2);

    static final String DOCKER_LIST = """
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
             "manifests":[
              {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"%s",
               "platform":{"architecture":"amd64","os":"linux"}},
              {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"%s",
               "platform":{"architecture":"arm","os":"linux","variant":"v7"}},
              {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"%s",
               "platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}
            """.formatted(D1, D2, D3);

    static final String CONFIG = """
            {"created":"2024-01-01T00:00:00Z","architecture":"amd64","os":"linux",
             "config":{"Env":["PATH=/usr/bin"],"Cmd":["/bin/sh"]},
             "rootfs":{"type":"layers","diff_ids":["%s","%s"]},
             "history":[{"created":"2024-01-01T00:00:00Z","created_by":"ADD file"},
                        {"created_by":"ENV x=y","empty_layer":true},{"created_by":"RUN true"}]}
            """.formatted(D1, D2);

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void parsesOciManifestAndRoundTripsCanonically() {
        ImageManifest m = ImageManifest.parse(b(OCI_MANIFEST));
        assertEquals(MediaTypes.OCI_MANIFEST, m.mediaType());
        assertEquals(Digest.parse(D1), m.config().digest());
        assertEquals(2, m.layers().size());
        assertEquals(16724, m.layers().get(1).size());
        assertEquals(Map.of("a", "1", "b", "2"), m.layers().get(1).annotations());
        assertEquals(32654 + 16724, m.totalLayerBytes());
        byte[] canonical = m.toJson();
        assertEquals(m, ImageManifest.parse(canonical));
        assertArrayEquals(canonical, ImageManifest.parse(canonical).toJson(), "canonical form is a fixed point");
        String text = new String(canonical, StandardCharsets.UTF_8);
        assertTrue(text.startsWith("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\""), text);
        assertTrue(text.contains("\"annotations\":{\"a\":\"1\",\"b\":\"2\"}"), "annotations sorted: " + text);
        assertTrue(!text.contains(" ") && !text.contains("\n"), text);
        assertEquals(Digest.sha256(canonical), m.digest());
    }

    @Test
    void parsesDockerManifestAndListWithPlatformSelection() {
        ImageManifest m = ImageManifest.parse(b(DOCKER_MANIFEST));
        assertEquals(MediaTypes.DOCKER_MANIFEST, m.mediaType());
        assertEquals(MediaTypes.DOCKER_LAYER_GZIP, m.layers().get(0).mediaType());
        ImageIndex idx = ImageIndex.parse(b(DOCKER_LIST));
        assertEquals(MediaTypes.DOCKER_MANIFEST_LIST, idx.mediaType());
        assertEquals(Digest.parse(D1), idx.select(Platform.linuxAmd64()).orElseThrow().digest());
        assertEquals(Digest.parse(D2), idx.select(Platform.parse("linux/arm/v7")).orElseThrow().digest());
        assertTrue(idx.select(Platform.parse("linux/arm/v6")).isEmpty());
        assertEquals(Digest.parse(D3), idx.select(Platform.parse("linux/arm64")).orElseThrow().digest(), "arm64 == arm64/v8");
        assertEquals(Digest.parse(D3), idx.select(Platform.parse("linux/arm64/v8")).orElseThrow().digest());
        assertTrue(idx.select(Platform.parse("windows/amd64")).isEmpty());
        assertEquals(idx, ImageIndex.parse(idx.toJson()));
    }

    @Test
    void parsesConfig() {
        ImageConfig c = ImageConfig.parse(b(CONFIG));
        assertEquals("amd64", c.architecture());
        assertEquals("linux", c.os());
        assertEquals(List.of(Digest.parse(D1), Digest.parse(D2)), c.diffIds());
        assertEquals(3, c.history().size());
        assertTrue(c.history().get(1).emptyLayer());
        assertEquals("ENV x=y", c.history().get(1).createdBy());
        assertTrue(c.config().contains("\"Cmd\":[\"/bin/sh\"]"), c.config());
        assertEquals(c, ImageConfig.parse(c.toJson()));
        assertArrayEquals(c.toJson(), ImageConfig.parse(c.toJson()).toJson());
        assertEquals(Platform.linuxAmd64(), c.platform());
        ImageConfig noCfg = ImageConfig.parse(b("{\"architecture\":\"arm64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"));
        assertNull(noCfg.config());
        assertTrue(noCfg.history().isEmpty());
    }

    @Test
    void mediaTypeMayBeOmittedInOciDocuments() {
        ImageManifest m = ImageManifest.parse(b(OCI_MANIFEST.replace("\"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",", "")));
        assertEquals(MediaTypes.OCI_MANIFEST, m.mediaType());
        String idx = "{\"schemaVersion\":2,\"manifests\":[]}";
        assertEquals(MediaTypes.OCI_INDEX, ImageIndex.parse(b(idx)).mediaType());
        assertMessage(() -> ImageManifest.parse(b(idx)), "index");
        assertMessage(() -> ImageIndex.parse(b(OCI_MANIFEST.replace("\"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",", ""))),
                "manifest");
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable e, String fragment) {
        OciFormatException ex = assertThrows(OciFormatException.class, e);
        assertTrue(ex.getMessage().contains(fragment), "expected '" + fragment + "' in: " + ex.getMessage());
        assertTrue(ex.getMessage().length() < 1000, "message bounded");
    }

    @Test
    void rejectsInvalidManifestsWithClearMessages() {
        Function<String, String> m = s -> s;
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"schemaVersion\": 2", "\"schemaVersion\": 1"))), "schemaVersion must be 2");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"schemaVersion\": 2", "\"schemaVersion\": \"2\""))), "schemaVersion");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"schemaVersion\": 2,", ""))), "schemaVersion: required");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("image.manifest.v1+json", "image.manifest.v9+json"))),
                "unsupported mediaType 'application/vnd.oci.image.manifest.v9+json'");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("layer.v1.tar+zstd", "layer.v1.tar+lz4"))),
                "layers[1].mediaType: unsupported layer media type");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("image.config.v1+json", "weird.config"))),
                "config.mediaType: unsupported config media type");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"size\": 32654", "\"size\": -1"))),
                "layers[0].size: must not be negative");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"size\": 32654", "\"size\": 1.5"))), "layers[0].size");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"size\": 32654", "\"size\": 1e300"))), "layers[0].size");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"size\": 32654", "\"size\": 99999999999999999999999"))),
                "layers[0].size: expected an integer within 64 bits");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"size\": 32654", "\"size\": \"32654\""))), "layers[0].size");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"size\": 32654", "\"size\": " + "9".repeat(5000)))), "not valid JSON");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace(D2, "sha256:1234"))), "layers[0].digest");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace(D2, "md5:" + "a".repeat(32)))), "unsupported digest algorithm");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"layers\"", "\"layerz\""))), "layers: required");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"layers\": [", "\"layers\": \"x\", \"old\": ["))),
                "layers: expected an array");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"a\": \"1\"", "\"a\": 1"))), "annotations.a: expected a string");
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST.replace("\"a\": \"1\"", "\"b\": \"1\""))), "not valid JSON"); // duplicate key
        assertMessage(() -> ImageManifest.parse(b(OCI_MANIFEST + "{}")), "not valid JSON");
        assertMessage(() -> ImageManifest.parse(b("[1,2]")), "must be a JSON object");
        assertMessage(() -> ImageManifest.parse(b("null")), "must be a JSON object");
        assertMessage(() -> ImageManifest.parse(new byte[0]), "image manifest");
        assertMessage(() -> ImageManifest.parse(null), "no content");
        assertMessage(() -> ImageIndex.parse(b(DOCKER_LIST.replace("\"os\":\"linux\"}}", "\"os\":7}}"))), "platform.os: expected a string");
        assertMessage(() -> ImageIndex.parse(b(DOCKER_LIST.replace("manifest.list.v2", "manifest.list.v3"))), "unsupported mediaType");
        assertMessage(() -> ImageIndex.parse(b(DOCKER_LIST.replace("distribution.manifest.v2+json\",\"size\":528,\"digest\":\"" + D2,
                "image.rootfs.diff.tar.gzip\",\"size\":528,\"digest\":\"" + D2))), "manifests[1].mediaType: unsupported index entry media type");
        assertMessage(() -> ImageConfig.parse(b(CONFIG.replace("\"layers\",", "\"tarballs\","))), "rootfs.type: must be 'layers'");
        assertMessage(() -> ImageConfig.parse(b(CONFIG.replace("\"empty_layer\":true", "\"empty_layer\":\"yes\""))),
                "history[1].empty_layer: expected a boolean");
        assertMessage(() -> ImageConfig.parse(b(CONFIG.replace("\"" + D2 + "\"", "42"))), "rootfs.diff_ids[1]: expected a digest string");
        assertMessage(() -> ImageConfig.parse(b(CONFIG.replace("\"architecture\":\"amd64\",", ""))), "architecture: required");
        assertTrue(m.apply("x").equals("x"));
    }

    @Test
    void oversizedInputIsRejectedBeforeParsing() {
        byte[] huge = new byte[ImageManifest.MAX_BYTES + 1];
        Arrays.fill(huge, (byte) ' ');
        assertMessage(() -> ImageManifest.parse(huge), "over the limit of 4194304 bytes");
        assertMessage(() -> ImageIndex.parse(huge), "over the limit");
        byte[] hugeConfig = new byte[ImageConfig.MAX_CONFIG_BYTES + 1];
        assertMessage(() -> ImageConfig.parse(hugeConfig), "over the limit");
        // deep nesting inside the limit
        String deep = "{\"schemaVersion\":2,\"x\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertMessage(() -> ImageManifest.parse(b(deep)), "not valid JSON");
        // many layers within the size limit still parse (bounded by the byte limit)
        StringBuilder sb = new StringBuilder("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" + MediaTypes.OCI_CONFIG
                + "\",\"digest\":\"" + D1 + "\",\"size\":1},\"layers\":[");
        for (int i = 0; i < 20_000; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"mediaType\":\"").append(MediaTypes.OCI_LAYER_GZIP)
                    .append("\",\"digest\":\"").append(D2).append("\",\"size\":").append(i).append('}');
        }
        sb.append("]}");
        assertEquals(20_000, ImageManifest.parse(b(sb.toString())).layers().size());
    }

    @Test
    void truncatedAndRandomInputFailsCleanly() {
        byte[][] docs = {b(OCI_MANIFEST), b(DOCKER_LIST), b(CONFIG)};
        List<Function<byte[], Object>> parsers = List.of(ImageManifest::parse, ImageIndex::parse, ImageConfig::parse);
        for (int d = 0; d < docs.length; d++) {
            for (int cut = 0; cut < docs[d].length - 1; cut += 7) {
                byte[] truncated = Arrays.copyOf(docs[d], cut);
                for (Function<byte[], Object> p : parsers) {
                    assertThrows(OciFormatException.class, () -> p.apply(truncated), "cut at " + cut);
                }
            }
        }
        Random rnd = new Random(42);
        for (int i = 0; i < 500; i++) {
            byte[] junk = new byte[rnd.nextInt(2000)];
            rnd.nextBytes(junk);
            for (Function<byte[], Object> p : parsers) {
                assertThrows(OciFormatException.class, () -> p.apply(junk));
            }
        }
        // flipped bytes in a valid document: either still valid, or a clean OciFormatException
        List<Throwable> unexpected = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            byte[] doc = b(OCI_MANIFEST);
            doc[rnd.nextInt(doc.length)] = (byte) rnd.nextInt(256);
            try {
                ImageManifest.parse(doc);
            } catch (OciFormatException expected) {
                // fine
            } catch (RuntimeException e) {
                unexpected.add(e);
            }
        }
        assertTrue(unexpected.isEmpty(), "non-OciFormatException failures: " + unexpected);
    }

    @Test
    void builtManifestHasStableDigest() {
        Descriptor cfg = Descriptor.of(MediaTypes.OCI_CONFIG, Digest.parse(D1), 10);
        Descriptor layer = Descriptor.of(MediaTypes.OCI_LAYER_GZIP, Digest.parse(D2), 20).withAnnotation("z", "1").withAnnotation("a", "2");
        ImageManifest a = ImageManifest.oci(cfg, List.of(layer));
        ImageManifest b = ImageManifest.oci(cfg, List.of(Descriptor.of(MediaTypes.OCI_LAYER_GZIP, Digest.parse(D2), 20)
                .withAnnotation("a", "2").withAnnotation("z", "1")));
        assertEquals(a.digest(), b.digest());
        assertEquals(a.toJson().length, a.descriptor(null).size());
    }
}
