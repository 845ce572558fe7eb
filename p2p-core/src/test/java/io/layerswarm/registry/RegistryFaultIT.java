package io.layerswarm.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.testing.AccessLogEntry;
import io.layerswarm.testing.FaultProxy;
import io.layerswarm.testing.RegistryFixture;
import io.layerswarm.testing.RegistryFixture.Mode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Retries, resume after a cut connection, redirects and TLS, with faults injected in front of the real registry. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegistryFaultIT {
    static final RetryPolicy FAST = new RetryPolicy(4, Duration.ofMillis(20), Duration.ofMillis(200));

    RegistryFixture reg;
    FaultProxy proxy;
    byte[] data;
    Digest digest;
    TestImages.Image image;

    @TempDir
    Path tmp;

    @BeforeAll
    void start() throws Exception {
        reg = RegistryFixture.start(Mode.PLAIN);
        proxy = FaultProxy.start(reg.baseUri());
        RegistryClient direct = RegistryClient.builder(reg.baseUri()).build();
        data = TestImages.random(77, 2 * 1024 * 1024 + 3);
        digest = Digest.sha256(data);
        direct.pushBlob("faults", digest, data);
        image = TestImages.image(78, "amd64", 1000);
        RegistryClientIT.pushImage(direct, "faults", image, Files.createTempDirectory("faults"));
        direct.putManifest("faults", "v1", image.manifestBytes(), MediaTypes.OCI_MANIFEST);
    }

    @AfterAll
    void stop() {
        proxy.close();
        reg.close();
    }

    RegistryClient viaProxy(RetryPolicy policy) {
        return RegistryClient.builder(proxy.baseUri()).retryPolicy(policy).build();
    }

    @Test
    void retriesServerErrorsAndRateLimits() throws Exception {
        proxy.failNext(2, 503, null);
        assertEquals(image.manifest().digest(), viaProxy(FAST).getManifest("faults", "v1").digest());
        proxy.failNext(1, 429, "0");
        assertTrue(viaProxy(FAST).blobExists("faults", digest));
        List<String> log = proxy.log();
        assertEquals(2, log.stream().filter(l -> l.contains("-> 503 injected")).count(), log.toString());
        assertEquals(1, log.stream().filter(l -> l.contains("-> 429 injected")).count(), log.toString());

        proxy.failNext(10, 502, null);
        RegistryException e = assertThrows(RegistryException.class, () -> viaProxy(RetryPolicy.none()).getManifest("faults", "v1"));
        assertEquals(502, e.status());
        proxy.failNext(0, 200, null);
    }

    @Test
    void cutConnectionIsResumedWithRange() throws Exception {
        int before = reg.accessLog().size();
        proxy.cutNextBlobDownloadAfter(700_000);
        Path target = tmp.resolve("blob");
        assertEquals(data.length, viaProxy(FAST).downloadBlob("faults", digest, data.length, target));
        assertArrayEquals(data, Files.readAllBytes(target));
        assertTrue(proxy.log().stream().anyMatch(l -> l.contains("cut after 700000")), proxy.log().toString());
        List<AccessLogEntry> after = reg.accessLog().subList(before, reg.accessLog().size());
        // The resumed request asked only for what was missing.
        assertTrue(after.stream().anyMatch(e -> e.status() == 206 && e.bytesSent() == data.length - 700_000L), after.toString());

        // A plain stream that is cut fails loudly instead of ending early.
        proxy.cutNextBlobDownloadAfter(100_000);
        try (InputStream in = viaProxy(FAST).openBlob("faults", digest)) {
            assertThrows(IOException.class, in::readAllBytes);
        }
    }

    @Test
    void followsRedirectsToStorage() throws Exception {
        proxy.redirectBlobs(true);
        try {
            RegistryClient c = viaProxy(FAST);
            try (InputStream in = c.openBlob("faults", digest)) {
                assertArrayEquals(data, in.readAllBytes());
            }
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 5, 105), c.fetchRange("faults", digest, 5, 100));
            assertTrue(proxy.log().stream().anyMatch(l -> l.contains("307 redirect")), proxy.log().toString());
        } finally {
            proxy.redirectBlobs(false);
        }
    }

    @Test
    void unreachableRegistryFailsAfterRetriesWithClearMessage() throws Exception {
        int deadPort;
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        RegistryClient c = RegistryClient.builder(URI.create("http://127.0.0.1:" + deadPort)).retryPolicy(FAST).build();
        RegistryException e = assertThrows(RegistryException.class, c::ping);
        assertTrue(e.getMessage().contains("failed after 4 attempt(s)"), e.getMessage());
    }

    @Test
    void insecureTlsOptionReachesSelfSignedRegistry() throws Exception {
        try (RegistryFixture tls = RegistryFixture.start(Mode.HTPASSWD, true)) {
            assertEquals("https", tls.baseUri().getScheme());
            RegistryClient strict = RegistryClient.builder(tls.baseUri()).credentials(tls.username(), tls.password())
                    .retryPolicy(RetryPolicy.none()).build();
            RegistryException e = assertThrows(RegistryException.class, strict::ping);
            assertTrue(e.getCause() instanceof javax.net.ssl.SSLException, String.valueOf(e.getCause()));
            RegistryClient insecure = RegistryClient.builder(tls.baseUri()).credentials(tls.username(), tls.password())
                    .insecureTls(true).build();
            insecure.ping();
            insecure.pushBlob("tls", digest, data);
            assertArrayEquals(data, insecure.fetchBlob("tls", digest, data.length));
        }
    }
}
