package io.layerswarm.k8s.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageManifest;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.testing.RegistryFixture;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Resolves images against the real docker-registry. */
class RegistryLayerResolverIT {

    @Test
    void resolvesLayersOnceAndReportsUnknownImages() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (RegistryFixture registry = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            RegistryClient client = RegistryClient.builder(registry.baseUri()).build();
            byte[] l1 = "layer one".getBytes(StandardCharsets.UTF_8);
            byte[] l2 = "layer two, a little longer".getBytes(StandardCharsets.UTF_8);
            byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"
                    .getBytes(StandardCharsets.UTF_8);
            for (byte[] b : List.of(l1, l2, config)) {
                client.pushBlob("shop/web", Digest.sha256(b), b);
            }
            ImageManifest m = ImageManifest.oci(Descriptor.of(MediaTypes.OCI_CONFIG, Digest.sha256(config), config.length),
                    List.of(Descriptor.of(MediaTypes.OCI_LAYER_GZIP, Digest.sha256(l1), l1.length),
                            Descriptor.of(MediaTypes.OCI_LAYER_GZIP, Digest.sha256(l2), l2.length)));
            Digest manifestDigest = client.putManifest("shop/web", "3.1", m.toJson(), m.mediaType());

            RegistryLayerResolver resolver = new RegistryLayerResolver(host -> host.equals(registry.hostPort()) ? client : null,
                    Platform.linuxAmd64(), pool, Duration.ofMinutes(5), Clock.systemUTC());
            String ref = registry.hostPort() + "/shop/web:3.1";
            ImageLayers layers = resolver.resolve(ref).get(10, TimeUnit.SECONDS);
            assertEquals(List.of(new LayerInfo(Digest.sha256(l1).toString(), l1.length),
                    new LayerInfo(Digest.sha256(l2).toString(), l2.length)), layers.layers());
            assertEquals(manifestDigest.toString(), layers.manifestDigest());
            assertEquals(registry.hostPort(), layers.registry());

            long manifestRequests = manifestRequests(registry);
            assertSame(layers, resolver.resolve(ref).get(1, TimeUnit.SECONDS), "answered from memory");
            ImageLayers byDigest = resolver.resolve(registry.hostPort() + "/shop/web@" + manifestDigest).get(10, TimeUnit.SECONDS);
            assertEquals(layers.layers(), byDigest.layers());
            assertEquals(manifestRequests, manifestRequests(registry), "tag and digest both served from the digest cache");

            ExecutionException missing = assertThrows(ExecutionException.class,
                    () -> resolver.resolve(registry.hostPort() + "/shop/web:nope").get(10, TimeUnit.SECONDS));
            assertTrue(missing.getCause().getMessage().contains("shop/web:nope"), missing.getCause().getMessage());
            ExecutionException noRegistry = assertThrows(ExecutionException.class,
                    () -> resolver.resolve("elsewhere.example/x:1").get(10, TimeUnit.SECONDS));
            assertTrue(noRegistry.getCause().getMessage().contains("no registry configured for elsewhere.example"),
                    noRegistry.getCause().getMessage());
            assertThrows(ExecutionException.class, () -> resolver.resolve("UPPER/case::bad").get(1, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    private static long manifestRequests(RegistryFixture registry) {
        return registry.accessLog().stream().filter(e -> e.path().contains("/manifests/")).count();
    }
}
