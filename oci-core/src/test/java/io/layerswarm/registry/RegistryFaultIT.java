package io.layerswarm.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.testing.AccessLogEntry;
import io.layerswarm.testing.FaultProxy;
import io.layerswarm.testing.RegistryFixture.Mode;
import io.layerswarm.testing.RegistryFixture;
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
        // The resumed request asked only for what was missing: at most 700000 bytes reached the
        // client before the cut (some may have been lost in flight), so the rest is at least that.
        assertTrue(after.stream().anyMatch(e -> e.status() == 206 && e.bytesSent() >= data.length - 700_000L
                && e.bytesSent() < data.length), after.toString());

        // A plain stream that is cut fails loudly instead of ending early.
        proxy.cutNextBlobDownloadAfter(100_000);
        try (InputStream in = viaProxy(FAST).openBlob("faults", digest)) {
            assertThrows(IOException.class, in::readAllBytes);
        }
    }

    @Test
    void chunkedUploadRecoversFromFailedChunks() throws Exception {
        byte[] blob = TestImages.random(91, 1_000_000);
        Digest d = Digest.sha256(blob);
        Path f = Files.write(tmp.resolve("chunked"), blob);
        RegistryClient c = viaProxy(FAST);

        // A chunk that never reached the registry: the upload status says where to go on.
        int start = proxy.log().size();
        proxy.failNext("PATCH", 1, 1, 503); // the second chunk
        c.pushBlobChunked("faults-chunked", d, f, 300_000);
        assertArrayEquals(blob, c.fetchBlob("faults-chunked", d, blob.length));
        List<String> log = proxy.log().subList(start, proxy.log().size());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("GET /v2/faults-chunked/blobs/uploads/") && l.endsWith("-> 204")), log.toString());
        assertEquals(1, log.stream().filter(l -> l.startsWith("POST")).count(), log.toString());
        assertEquals(5, log.stream().filter(l -> l.startsWith("PATCH")).count(), "4 chunks + 1 failed: " + log);

        // A chunk the registry kept but whose response was lost: distribution 2.8 then refuses the
        // stale session URL, so the client starts a fresh session instead of sending data twice.
        byte[] blob2 = TestImages.random(92, 1_000_000);
        Digest d2 = Digest.sha256(blob2);
        Path f2 = Files.write(tmp.resolve("chunked2"), blob2);
        start = proxy.log().size();
        proxy.swallowNextResponses("PATCH", 1, 503);
        c.pushBlobChunked("faults-chunked", d2, f2, 300_000);
        assertArrayEquals(blob2, c.fetchBlob("faults-chunked", d2, blob2.length));
        log = proxy.log().subList(start, proxy.log().size());
        assertEquals(1, log.stream().filter(l -> l.startsWith("PATCH") && l.contains("503 after forwarding")).count(), log.toString());
        assertEquals(2, log.stream().filter(l -> l.startsWith("POST")).count(), log.toString());
    }

    @Test
    void stalledBodyTimesOutAndDownloadResumes() throws Exception {
        RegistryClient c = RegistryClient.builder(proxy.baseUri()).retryPolicy(FAST).readTimeout(Duration.ofMillis(400)).build();
        proxy.stallNextBlobDownloadAfter(300_000, 5_000);
        try (InputStream in = c.openBlob("faults", digest)) {
            // after its stall the proxy cuts the connection, which would be another IOException: a
            // timeout proves the client gave up during the stall (no wall-clock assert needed)
            java.net.http.HttpTimeoutException e = assertThrows(java.net.http.HttpTimeoutException.class, in::readAllBytes);
            assertTrue(e.getMessage().contains("no data for 400 ms"), e.getMessage());
        }
        assertTrue(!Thread.currentThread().isInterrupted(), "the watchdog's interrupt must not leak");

        proxy.stallNextBlobDownloadAfter(500_000, 5_000);
        Path target = tmp.resolve("stalled");
        assertEquals(data.length, c.downloadBlob("faults", digest, data.length, target));
        assertArrayEquals(data, Files.readAllBytes(target));
    }

    @Test
    void corruptContentIsRejected() throws Exception {
        RegistryClient c = viaProxy(FAST);
        Digest manifestDigest = image.manifest().digest();
        proxy.corruptNext("/manifests/" + manifestDigest, 1);
        DigestMismatchException m = assertThrows(DigestMismatchException.class,
                () -> c.getManifest("faults", manifestDigest.toString()));
        assertEquals(manifestDigest, m.expected());
        // by tag, the registry's Docker-Content-Digest header no longer matches the body
        proxy.corruptNext("/manifests/v1", 1);
        assertTrue(assertThrows(DigestMismatchException.class, () -> c.getManifest("faults", "v1")).getMessage()
                .contains("Docker-Content-Digest"));

        proxy.corruptNext("/blobs/" + digest, 1);
        try (InputStream in = c.openBlob("faults", digest)) {
            assertThrows(DigestMismatchException.class, in::readAllBytes);
        }
        proxy.corruptNext("/blobs/" + digest, 1);
        Path target = tmp.resolve("corrupt-download");
        assertThrows(DigestMismatchException.class, () -> c.downloadBlob("faults", digest, data.length, target));
        assertTrue(Files.notExists(target), "nothing unverified is left behind");
        // and once the fault is gone, the same calls succeed
        assertEquals(manifestDigest, c.getManifest("faults", "v1").digest());
        assertEquals(data.length, c.downloadBlob("faults", digest, data.length, target));
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
