package io.layerswarm.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.MediaTypes;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.RegistryFixture.Mode;
import io.layerswarm.testing.RegistryFixture;
import io.layerswarm.testing.TokenRequest;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Authentication failures, token scopes and caching, and the concurrency limit, against the real registry. */
class RegistryAuthIT {

    @Test
    void htpasswdWrongOrMissingPasswordIsAClear401() throws Exception {
        try (RegistryFixture reg = RegistryFixture.start(Mode.HTPASSWD)) {
            RegistryClient wrong = RegistryClient.builder(reg.baseUri()).credentials(reg.username(), "nope").build();
            RegistryException e = assertThrows(RegistryException.class, wrong::ping);
            assertEquals(401, e.status());
            assertTrue(e.getMessage().contains("returned 401") && e.getMessage().contains("UNAUTHORIZED"), e.getMessage());
            RegistryClient anonymous = RegistryClient.builder(reg.baseUri()).build();
            assertEquals(401, assertThrows(RegistryException.class, () -> anonymous.listTags("x")).status());
            RegistryClient right = RegistryClient.builder(reg.baseUri()).credentials(reg.username(), reg.password()).build();
            right.ping();
        }
    }

    @Test
    void tokenModeWrongPasswordScopesAndCaching() throws Exception {
        try (RegistryFixture reg = RegistryFixture.start(Mode.TOKEN)) {
            RegistryClient wrong = RegistryClient.builder(reg.baseUri()).credentials(reg.username(), "nope").build();
            RegistryException e = assertThrows(RegistryException.class, wrong::ping);
            assertEquals(401, e.status());
            assertTrue(e.getMessage().contains("token request") && e.getMessage().contains("wrong or missing credentials"),
                    e.getMessage());

            RegistryClient owner = RegistryClient.builder(reg.baseUri()).credentials(reg.username(), reg.password())
                    .maxConcurrentRequests(4).build();
            String repo = "scoped/app";
            List<TestImages.Blob> blobs = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                TestImages.Blob b = TestImages.blob(MediaTypes.OCI_LAYER_GZIP, TestImages.random(100 + i, 20_000 + i));
                owner.pushBlob(repo, b.digest(), b.data());
                blobs.add(b);
            }
            // Concurrent pulls share one cached token per scope.
            ExecutorService pool = Executors.newFixedThreadPool(6);
            try {
                List<Future<byte[]>> fs = new ArrayList<>();
                for (TestImages.Blob b : blobs) {
                    fs.add(pool.submit(() -> owner.fetchBlob(repo, b.digest(), 1 << 20)));
                }
                for (int i = 0; i < blobs.size(); i++) {
                    assertArrayEquals(blobs.get(i).data(), fs.get(i).get(30, TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
            List<TokenRequest> ownerRequests = reg.tokenRequests().stream().filter(t -> t.user().equals(reg.username())).toList();
            assertEquals(1, ownerRequests.stream().filter(t -> t.scopes().equals(List.of("repository:scoped/app:pull,push"))).count(),
                    ownerRequests.toString());
            assertEquals(1, ownerRequests.stream().filter(t -> t.scopes().equals(List.of("repository:scoped/app:pull"))).count(),
                    ownerRequests.toString());

            // Anonymous callers get pull-only tokens: pulling works, pushing is refused clearly.
            RegistryClient anonymous = RegistryClient.builder(reg.baseUri()).build();
            assertArrayEquals(blobs.get(0).data(), anonymous.fetchBlob(repo, blobs.get(0).digest(), 1 << 20));
            byte[] extra = TestImages.random(999, 1000);
            RegistryException denied = assertThrows(RegistryException.class,
                    () -> anonymous.pushBlob(repo, Digest.sha256(extra), extra));
            assertEquals(401, denied.status());
            assertTrue(denied.hasCode("UNAUTHORIZED") || denied.hasCode("DENIED"), denied.getMessage());
            assertTrue(reg.tokenRequests().stream().anyMatch(t -> t.user().isEmpty()
                    && t.scopes().contains("repository:scoped/app:pull,push")), reg.tokenRequests().toString());
            assertFalse(owner.blobExists(repo, Digest.sha256(extra)));

            // The catalog needs its own scope, which the owner gets.
            assertTrue(owner.catalog().contains(repo));
            assertEquals(401, assertThrows(RegistryException.class, anonymous::catalog).status());
        }
    }

    @Test
    void concurrencyLimitHoldsSlotsWhileStreamsAreOpen() throws Exception {
        try (RegistryFixture reg = RegistryFixture.start(Mode.PLAIN)) {
            RegistryClient c = RegistryClient.builder(reg.baseUri()).maxConcurrentRequests(2).build();
            byte[] data = TestImages.random(1, 500_000);
            Digest d = Digest.sha256(data);
            c.pushBlob("limit", d, data);
            Thread[] worker = new Thread[1];
            ExecutorService pool = Executors.newSingleThreadExecutor(r -> worker[0] = new Thread(r, "third-request"));
            try (InputStream a = c.openBlob("limit", d); InputStream b = c.openBlob("limit", d)) {
                Future<Boolean> third = pool.submit(() -> c.blobExists("limit", d));
                Await.until(Duration.ofSeconds(30), "the third request queues for a slot",
                        () -> Await.isBlockedIn(worker[0], java.util.concurrent.Semaphore.class));
                assertFalse(third.isDone(), "a third request must wait while two streams hold both slots");
                a.close();
                assertTrue(third.get(10, TimeUnit.SECONDS));
                assertArrayEquals(data, b.readAllBytes());
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
