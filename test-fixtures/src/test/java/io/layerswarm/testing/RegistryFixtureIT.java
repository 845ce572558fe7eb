package io.layerswarm.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class RegistryFixtureIT {
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(URI uri, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri);
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String basic(String u, String p) {
        return "Basic " + Base64.getEncoder().encodeToString((u + ":" + p).getBytes(StandardCharsets.UTF_8));
    }

    /** Uploads {@code blob} to repository t/blob (monolithic upload); returns its digest. */
    private String pushBlob(RegistryFixture reg, byte[] blob) throws Exception {
        String digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(blob));
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(reg.baseUri().resolve("/v2/t/blob/blobs/uploads/"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, post.statusCode());
        String loc = post.headers().firstValue("Location").orElseThrow();
        URI put = reg.baseUri().resolve(loc + (loc.contains("?") ? "&" : "?") + "digest=" + URLEncoder.encode(digest, StandardCharsets.UTF_8));
        assertEquals(201, http.send(HttpRequest.newBuilder(put).PUT(HttpRequest.BodyPublishers.ofByteArray(blob)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        return digest;
    }

    @Test
    void restartKeepsStorageAndPort() throws Exception {
        try (RegistryFixture reg = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            byte[] blob = "survives a restart".getBytes(StandardCharsets.UTF_8);
            String digest = pushBlob(reg, blob);
            URI uri = reg.baseUri().resolve("/v2/t/blob/blobs/" + digest);
            reg.stop();
            assertFalse(reg.running());
            assertThrows(java.io.IOException.class, () -> get(uri, null), "a stopped registry refuses connections");
            reg.restart();
            assertTrue(reg.running());
            assertEquals(new String(blob, StandardCharsets.UTF_8), get(uri, null).body());
            reg.restart(); // restarting a running registry replaces its process
            assertEquals(new String(blob, StandardCharsets.UTF_8), get(uri, null).body());
            assertEquals(2L * blob.length, reg.blobBytesServed(digest), "the access log spans the restarts");
        }
    }

    @Test
    void plainServesAndLogsBlobBytes() throws Exception {
        try (RegistryFixture reg = RegistryFixture.start(RegistryFixture.Mode.PLAIN)) {
            assertEquals(200, get(reg.baseUri().resolve("/v2/"), null).statusCode());
            byte[] blob = "fixture blob content".getBytes(StandardCharsets.UTF_8);
            String digest = pushBlob(reg, blob);
            for (int i = 0; i < 2; i++) {
                assertEquals(new String(blob, StandardCharsets.UTF_8),
                        get(reg.baseUri().resolve("/v2/t/blob/blobs/" + digest), null).body());
            }
            assertEquals(2L * blob.length, reg.blobBytesServed(digest));
            List<AccessLogEntry> log = reg.accessLog();
            assertTrue(log.stream().anyMatch(e -> e.method().equals("PUT") && e.status() == 201), log.toString());
            assertTrue(log.stream().anyMatch(e -> e.path().equals("/v2/") && e.status() == 200), log.toString());
        }
    }

    @Test
    void htpasswdChecksPassword() throws Exception {
        try (RegistryFixture reg = RegistryFixture.start(RegistryFixture.Mode.HTPASSWD)) {
            URI v2 = reg.baseUri().resolve("/v2/");
            HttpResponse<String> anon = get(v2, null);
            assertEquals(401, anon.statusCode());
            assertTrue(anon.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"));
            assertEquals(401, get(v2, basic(reg.username(), "wrong")).statusCode());
            assertEquals(200, get(v2, basic(reg.username(), reg.password())).statusCode());
        }
    }

    @Test
    void tokenModeIssuesTokensTheRegistryAccepts() throws Exception {
        try (RegistryFixture reg = RegistryFixture.start(RegistryFixture.Mode.TOKEN)) {
            URI catalog = reg.baseUri().resolve("/v2/_catalog");
            HttpResponse<String> anon = get(catalog, null);
            assertEquals(401, anon.statusCode());
            String challenge = anon.headers().firstValue("WWW-Authenticate").orElse("");
            assertTrue(challenge.startsWith("Bearer realm=\"" + reg.tokenRealm().orElseThrow()), challenge);
            URI tokenUri = URI.create(reg.tokenRealm().orElseThrow() + "?service=layerswarm-test-registry&scope="
                    + URLEncoder.encode("registry:catalog:*", StandardCharsets.UTF_8));
            assertEquals(401, get(tokenUri, basic(reg.username(), "wrong")).statusCode());
            HttpResponse<String> tokenResp = get(tokenUri, basic(reg.username(), reg.password()));
            assertEquals(200, tokenResp.statusCode());
            String token = new ObjectMapper().readTree(tokenResp.body()).get("token").asText();
            HttpResponse<String> ok = get(catalog, "Bearer " + token);
            assertEquals(200, ok.statusCode(), ok.body() + "\n" + java.nio.file.Files.readString(reg.registryLogFile()));
            // Anonymous tokens carry pull only, so the catalog stays closed.
            String anonToken = new ObjectMapper().readTree(get(tokenUri, null).body()).get("token").asText();
            assertEquals(401, get(catalog, "Bearer " + anonToken).statusCode());
            assertEquals(3, reg.tokenRequests().size());
        }
    }
}
