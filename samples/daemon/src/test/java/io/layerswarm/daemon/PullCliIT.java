package io.layerswarm.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageConfig;
import io.layerswarm.oci.ImageIndex;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.testing.FaultProxy;
import io.layerswarm.testing.RegistryFixture;
import io.layerswarm.testing.RegistryFixture.Mode;
import io.layerswarm.testing.TestTar;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@code java -jar layerswarm.jar pull} against the real registry and checks the layout with skopeo and umoci. */
class PullCliIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path JAR = DaemonJar.JAR;

    @TempDir
    Path tmp;

    record Result(int status, String stdout, String stderr) {
    }

    static Result exec(List<String> cmd, String stdin) throws Exception {
        Process p = new ProcessBuilder(cmd).start();
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        var out = new java.util.concurrent.CompletableFuture<String>();
        Thread t = new Thread(() -> {
            try {
                out.complete(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (Exception e) {
                out.completeExceptionally(e);
            }
        });
        t.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + cmd);
        }
        return new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS), err);
    }

    static Result pull(String stdin, String... args) throws Exception {
        if (!Files.isRegularFile(JAR)) {
            fail(JAR.toAbsolutePath() + " is missing: run the package phase first (mvn verify does)");
        }
        List<String> cmd = new ArrayList<>(List.of("pull"));
        cmd.addAll(List.of(args));
        return exec(DaemonJar.command(cmd), stdin);
    }

    static Result tool(String... cmd) throws Exception {
        if (!Files.isExecutable(Path.of(cmd[0]))) {
            fail(cmd[0] + " is missing: install it with scripts/install-system-packages.sh");
        }
        return exec(List.of(cmd), null);
    }

    /** One pushed platform image: its manifest and the file its single layer holds. */
    record Pushed(ImageManifest manifest, String fileName, byte[] fileContent) {
    }

    static Pushed pushImage(RegistryClient c, String repo, String arch, long seed) throws Exception {
        byte[] content = new byte[300_000];
        new Random(seed).nextBytes(content);
        String name = "hello-" + arch + ".bin";
        byte[] tar = TestTar.tar(name, content);
        byte[] layer = TestTar.gzip(tar);
        Descriptor layerDesc = Descriptor.of(MediaTypes.OCI_LAYER_GZIP, Digest.sha256(layer), layer.length);
        byte[] config = new ImageConfig(arch, "linux", null, null, "{\"Cmd\":[\"/" + name + "\"]}",
                List.of(Digest.sha256(tar)), List.of()).toJson();
        Descriptor configDesc = Descriptor.of(MediaTypes.OCI_CONFIG, Digest.sha256(config), config.length);
        c.pushBlob(repo, layerDesc.digest(), layer);
        c.pushBlob(repo, configDesc.digest(), config);
        ImageManifest m = ImageManifest.oci(configDesc, List.of(layerDesc));
        c.putManifest(repo, m.digest().toString(), m.toJson(), MediaTypes.OCI_MANIFEST);
        return new Pushed(m, name, content);
    }

    static RegistryClient client(RegistryFixture reg) {
        RegistryClient.Builder b = RegistryClient.builder(reg.baseUri());
        if (reg.mode() != Mode.PLAIN) {
            b.credentials(reg.username(), reg.password());
        }
        return b.build();
    }

    /** Pushes linux/amd64 and linux/arm64 images and an index tagged v1; returns the arm64 one. */
    static Pushed pushMultiArch(RegistryFixture reg, String repo) throws Exception {
        RegistryClient c = client(reg);
        Pushed amd = pushImage(c, repo, "amd64", 1);
        Pushed arm = pushImage(c, repo, "arm64", 2);
        ImageIndex idx = ImageIndex.oci(List.of(amd.manifest().descriptor(Platform.linuxAmd64()),
                arm.manifest().descriptor(new Platform("linux", "arm64", "v8"))));
        c.putManifest(repo, "v1", idx.toJson(), MediaTypes.OCI_INDEX);
        return arm;
    }

    @Test
    void pullsPlatformImageIntoAValidOciLayout() throws Exception {
        try (RegistryFixture reg = RegistryFixture.start(Mode.PLAIN)) {
            Pushed arm = pushMultiArch(reg, "cli/app");
            Path layout = tmp.resolve("layout");
            Path store = tmp.resolve("store");
            Result r = pull(null, "cli/app:v1", "--registry", reg.baseUri().toString(), "--platform", "linux/arm64",
                    "--output", layout.toString(), "--store", store.toString());
            assertEquals(0, r.status(), r.stdout() + r.stderr());
            assertTrue(r.stdout().contains("pulled cli/app:v1 (linux/arm64) digest=" + arm.manifest().digest()), r.stdout());
            assertEquals(2, r.stdout().lines().filter(l -> l.startsWith("blob sha256:") && l.contains(" fetched ")).count(),
                    r.stdout());

            // Independent tools accept the layout.
            Result inspect = tool("/usr/bin/skopeo", "--insecure-policy", "inspect", "oci:" + layout + ":v1");
            assertEquals(0, inspect.status(), inspect.stderr());
            JsonNode info = JSON.readTree(inspect.stdout());
            assertEquals(arm.manifest().digest().toString(), info.get("Digest").asText());
            assertEquals("arm64", info.get("Architecture").asText());
            Path bundle = tmp.resolve("bundle");
            Result unpack = tool("/usr/bin/umoci", "unpack", "--rootless", "--image", layout + ":v1", bundle.toString());
            assertEquals(0, unpack.status(), unpack.stdout() + unpack.stderr());
            assertTrue(java.util.Arrays.equals(arm.fileContent(), Files.readAllBytes(bundle.resolve("rootfs").resolve(arm.fileName()))));

            // Every blob was served exactly once.
            Map<String, Long> served = reg.blobBytesServed();
            assertEquals(arm.manifest().layers().get(0).size(), served.get(arm.manifest().layers().get(0).digest().toString()));
            assertEquals(arm.manifest().config().size(), served.get(arm.manifest().config().digest().toString()));

            // A second pull with the same store fetches nothing.
            Result again = pull(null, "cli/app:v1", "--registry", reg.baseUri().toString(), "--platform", "linux/arm64",
                    "--output", tmp.resolve("layout2").toString(), "--store", store.toString());
            assertEquals(0, again.status(), again.stdout() + again.stderr());
            assertEquals(2, again.stdout().lines().filter(l -> l.contains("already in store")).count(), again.stdout());
            assertEquals(served, reg.blobBytesServed());

            // Failures: one line on stderr, non-zero exit, nothing overwritten.
            Result missing = pull(null, "cli/app:nope", "--registry", reg.baseUri().toString(), "--output",
                    tmp.resolve("x").toString(), "--store", store.toString());
            assertEquals(1, missing.status());
            assertEquals(1, missing.stderr().lines().count(), missing.stderr());
            assertTrue(missing.stderr().startsWith("error: ") && missing.stderr().contains("cli/app:nope not found"), missing.stderr());
            Path occupied = Files.createDirectories(tmp.resolve("occupied"));
            Files.writeString(occupied.resolve("precious.txt"), "keep me");
            Result notEmpty = pull(null, "cli/app:v1", "--registry", reg.baseUri().toString(), "--output", occupied.toString(),
                    "--store", store.toString());
            assertEquals(1, notEmpty.status());
            assertTrue(notEmpty.stderr().contains("not empty"), notEmpty.stderr());
            assertEquals(List.of(occupied.resolve("precious.txt")), Files.list(occupied).toList());

            // Pulling another tag into the existing layout adds an entry.
            RegistryClient c = client(reg);
            Digest amdDigest = ImageIndex.parse(c.getManifest("cli/app", "v1").bytes()).select(Platform.linuxAmd64())
                    .orElseThrow().digest();
            c.putManifest("cli/app", "amd", c.getManifest("cli/app", amdDigest.toString()).bytes(), MediaTypes.OCI_MANIFEST);
            Result second = pull(null, "cli/app:amd", "--registry", reg.baseUri().toString(), "--output", layout.toString(),
                    "--store", store.toString());
            assertEquals(0, second.status(), second.stdout() + second.stderr());
            assertEquals("amd64", JSON.readTree(tool("/usr/bin/skopeo", "--insecure-policy", "inspect", "oci:" + layout + ":amd")
                    .stdout()).get("Architecture").asText());
            assertEquals("arm64", JSON.readTree(tool("/usr/bin/skopeo", "--insecure-policy", "inspect", "oci:" + layout + ":v1")
                    .stdout()).get("Architecture").asText());
            assertEquals(2, JSON.readTree(Files.readAllBytes(layout.resolve("index.json"))).get("manifests").size());
            Result badRef = pull(null, "cli/App:v1", "--registry", reg.baseUri().toString(), "--output", tmp.resolve("y").toString());
            assertEquals(1, badRef.status());
            assertTrue(badRef.stderr().contains("repository component 'App'"), badRef.stderr());
            // Wrong bytes from the registry: refused, nothing committed, no layout written.
            try (FaultProxy proxy = FaultProxy.start(reg.baseUri())) {
                Digest layer = arm.manifest().layers().get(0).digest();
                proxy.corruptNext("/blobs/" + layer, 5);
                Path freshStore = tmp.resolve("fresh-store");
                Path badLayout = tmp.resolve("bad-layout");
                Result corrupt = pull(null, "cli/app:v1", "--registry", proxy.baseUri().toString(), "--platform", "linux/arm64",
                        "--output", badLayout.toString(), "--store", freshStore.toString());
                assertEquals(1, corrupt.status(), corrupt.stdout());
                // the swarm verifies the blob against its digest before commit and names it in the one error line
                assertTrue(corrupt.stderr().contains("could not fetch " + layer), corrupt.stderr());
                assertTrue(Files.notExists(freshStore.resolve("blobs/sha256/" + layer.hex())), "corrupt blob not committed");
                assertTrue(Files.notExists(badLayout.resolve("index.json")), "no layout index on failure");
            }
            Result noPlatform = pull(null, "cli/app:v1", "--registry", reg.baseUri().toString(), "--platform", "linux/s390x",
                    "--output", tmp.resolve("z").toString(), "--store", store.toString());
            assertEquals(1, noPlatform.status());
            assertTrue(noPlatform.stderr().contains("no manifest for platform linux/s390x"), noPlatform.stderr());
        }
    }

    @Test
    void pullsWithTokenAuthAndPasswordOnStdin() throws Exception {
        try (RegistryFixture reg = RegistryFixture.start(Mode.TOKEN)) {
            Pushed arm = pushMultiArch(reg, "cli/secure");
            Path layout = tmp.resolve("layout");
            Result r = pull(reg.password() + "\n", reg.hostPort() + "/cli/secure:v1", "--registry", reg.baseUri().toString(),
                    "--username", reg.username(), "--password-stdin", "--platform", "linux/arm64/v8",
                    "--output", layout.toString(), "--store", tmp.resolve("store").toString());
            assertEquals(0, r.status(), r.stdout() + r.stderr());
            Result inspect = tool("/usr/bin/skopeo", "--insecure-policy", "inspect", "oci:" + layout + ":v1");
            assertEquals(arm.manifest().digest().toString(), JSON.readTree(inspect.stdout()).get("Digest").asText());

            Result wrong = pull("wrong\n", "cli/secure:v1", "--registry", reg.baseUri().toString(), "--username",
                    reg.username(), "--password-stdin", "--output", tmp.resolve("w").toString(),
                    "--store", tmp.resolve("store2").toString());
            assertEquals(1, wrong.status());
            assertTrue(wrong.stderr().startsWith("error: ") && wrong.stderr().contains("401"), wrong.stderr());
            assertTrue(Files.notExists(tmp.resolve("w")), "nothing written on failure");
        }
    }
}
