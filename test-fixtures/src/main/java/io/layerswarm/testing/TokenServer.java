package io.layerswarm.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A minimal Docker-registry token server on loopback: it issues ES256 JWTs signed by a key whose
 * self-signed certificate is the registry's {@code rootcertbundle}. The certificate travels in the
 * JWT's {@code x5c} header, which is how docker-registry 2.8 finds the verification key.
 *
 * <p>Policy: the configured user gets every action it asks for; anonymous callers get only
 * {@code pull}, and nothing on repositories under {@link RegistryFixture#PRIVATE_PREFIX} (private
 * repositories); a wrong password gets 401.
 */
final class TokenServer implements AutoCloseable {
    static final String ISSUER = "layerswarm-test-issuer";
    static final String SERVICE = "layerswarm-test-registry";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

    private final HttpServer server;
    private final KeyPair key;
    private final X509Certificate cert;
    private final String username;
    private final String password;
    private final List<TokenRequest> requests = new CopyOnWriteArrayList<>();

    TokenServer(String username, String password) throws IOException {
        this.username = username;
        this.password = password;
        SelfSignedCert ssc = SelfSignedCert.create("layerswarm test token issuer");
        key = ssc.key();
        cert = ssc.cert();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/token", this::handle);
        server.start();
    }

    URI realm() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/token");
    }

    List<TokenRequest> requests() {
        return List.copyOf(requests);
    }

    /** Writes the certificate as PEM, the registry's rootcertbundle. */
    void writeRootCertBundle(Path file) throws IOException {
        new SelfSignedCert(key, cert).writeCertPem(file);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            List<String> scopes = new ArrayList<>();
            String service = null;
            String rawQuery = ex.getRequestURI().getRawQuery();
            if (rawQuery != null) {
                for (String kv : rawQuery.split("&")) {
                    int eq = kv.indexOf('=');
                    if (eq < 0) {
                        continue;
                    }
                    String k = URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8);
                    String v = URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
                    if (k.equals("scope")) {
                        for (String s : v.split(" ")) {
                            if (!s.isBlank()) {
                                scopes.add(s);
                            }
                        }
                    } else if (k.equals("service")) {
                        service = v;
                    }
                }
            }
            String user = authenticate(ex.getRequestHeaders().getFirst("Authorization"));
            if (user == null) {
                requests.add(new TokenRequest("<rejected>", scopes, 401));
                send(ex, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad credentials\"}]}");
                return;
            }
            if (service != null && !SERVICE.equals(service)) {
                requests.add(new TokenRequest(user, scopes, 400));
                send(ex, 400, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"unknown service\"}]}");
                return;
            }
            requests.add(new TokenRequest(user, scopes, 200));
            String token = mint(user, scopes);
            ObjectNode body = JSON.createObjectNode();
            body.put("token", token);
            body.put("access_token", token);
            body.put("expires_in", 300);
            body.put("issued_at", Instant.now().toString());
            send(ex, 200, JSON.writeValueAsString(body));
        } catch (RuntimeException e) {
            send(ex, 500, "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"" + e.getClass().getSimpleName() + "\"}]}");
        }
    }

    /** Returns the user name ("" for anonymous), or null for wrong credentials. */
    private String authenticate(String authorization) {
        if (authorization == null) {
            return "";
        }
        if (!authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return null;
        }
        String u = decoded.substring(0, colon);
        String p = decoded.substring(colon + 1);
        return u.equals(username) && p.equals(password) ? u : null;
    }

    private String mint(String user, List<String> scopes) {
        try {
            ObjectNode header = JSON.createObjectNode();
            header.put("typ", "JWT");
            header.put("alg", "ES256");
            header.putArray("x5c").add(Base64.getEncoder().encodeToString(cert.getEncoded()));
            long now = Instant.now().getEpochSecond();
            ObjectNode claims = JSON.createObjectNode();
            claims.put("iss", ISSUER);
            claims.put("sub", user);
            claims.put("aud", SERVICE);
            claims.put("exp", now + 300);
            claims.put("nbf", now - 10);
            claims.put("iat", now);
            claims.put("jti", UUID.randomUUID().toString());
            ArrayNode access = claims.putArray("access");
            for (String scope : scopes) {
                int first = scope.indexOf(':');
                int last = scope.lastIndexOf(':');
                if (first <= 0 || last == first) {
                    continue;
                }
                ObjectNode entry = access.addObject();
                entry.put("type", scope.substring(0, first));
                entry.put("name", scope.substring(first + 1, last));
                ArrayNode actions = entry.putArray("actions");
                for (String a : scope.substring(last + 1).split(",")) {
                    boolean privateRepo = entry.get("name").asText().startsWith(RegistryFixture.PRIVATE_PREFIX);
                    if (!user.isEmpty() || (Set.of("pull").contains(a) && !privateRepo)) {
                        actions.add(a);
                    }
                }
            }
            String signingInput = B64URL.encodeToString(JSON.writeValueAsBytes(header)) + "."
                    + B64URL.encodeToString(JSON.writeValueAsBytes(claims));
            // JWS ES256 wants the raw R||S signature, which the JDK calls "P1363 format".
            Signature sig = Signature.getInstance("SHA256withECDSAinP1363Format");
            sig.initSign(key.getPrivate());
            sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + "." + B64URL.encodeToString(sig.sign());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot sign token", e);
        }
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
