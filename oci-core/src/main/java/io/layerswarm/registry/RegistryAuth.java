package io.layerswarm.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authentication state of one client: Basic credentials and Bearer tokens cached per scope. Learns
 * the scheme from the registry's 401 challenges.
 */
final class RegistryAuth {
    private static final Logger log = LoggerFactory.getLogger(RegistryAuth.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_TOKEN_RESPONSE = 1024 * 1024;
    private static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofSeconds(60);
    private static final Duration EXPIRY_MARGIN = Duration.ofSeconds(10);

    record Token(String value, Instant expires) {
    }

    private final String basicHeader;
    private final HttpClient http;
    private final String userAgent;
    private final Duration timeout;
    private final Map<String, Token> tokens = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private volatile boolean basicRequested;

    RegistryAuth(String username, String password, HttpClient http, String userAgent, Duration timeout) {
        this.basicHeader = username == null ? null : "Basic " + Base64.getEncoder()
                .encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
        this.http = http;
        this.userAgent = userAgent;
        this.timeout = timeout;
    }

    /** The Authorization header to send for a request needing {@code scope}, if known. */
    String authorizationFor(String scope) {
        Token t = tokens.get(key(scope));
        if (t != null && Instant.now().isBefore(t.expires())) {
            return "Bearer " + t.value();
        }
        return basicRequested ? basicHeader : null;
    }

    /**
     * Reacts to a 401: fetches a token or switches to Basic. Returns whether retrying the request
     * can help.
     */
    boolean onChallenge(List<String> wwwAuthenticate, String scope, String sentAuthorization) throws IOException {
        if (wwwAuthenticate.isEmpty()) {
            return false;
        }
        AuthChallenge bearer = null;
        AuthChallenge basic = null;
        for (String header : wwwAuthenticate) {
            List<AuthChallenge> parsed;
            try {
                parsed = AuthChallenge.parse(header);
            } catch (IllegalArgumentException e) {
                throw new RegistryException("registry sent a " + e.getMessage(), 401, List.of());
            }
            for (AuthChallenge c : parsed) {
                if (c.scheme().equals("bearer") && bearer == null) {
                    bearer = c;
                } else if (c.scheme().equals("basic") && basic == null) {
                    basic = c;
                }
            }
        }
        if (bearer != null) {
            if ("insufficient_scope".equals(bearer.param("error")) && sentAuthorization != null
                    && sentAuthorization.startsWith("Bearer ")) {
                return false;
            }
            fetchToken(bearer, scope);
            return true;
        }
        if (basic != null && basicHeader != null && !basicHeader.equals(sentAuthorization)) {
            basicRequested = true;
            return true;
        }
        return false;
    }

    private void fetchToken(AuthChallenge challenge, String scope) throws IOException {
        String key = key(scope);
        Object lock = locks.computeIfAbsent(key, k -> new Object());
        synchronized (lock) {
            Token cached = tokens.get(key);
            if (cached != null && Instant.now().isBefore(cached.expires())) {
                return; // another thread fetched it meanwhile
            }
            String realm = challenge.param("realm");
            URI realmUri;
            try {
                realmUri = realm == null ? null : URI.create(realm);
            } catch (IllegalArgumentException e) {
                realmUri = null;
            }
            if (realmUri == null || !realmUri.isAbsolute() || realmUri.getHost() == null
                    || !(realmUri.getScheme().equals("http") || realmUri.getScheme().equals("https"))) {
                throw new RegistryException("registry sent a Bearer challenge without a usable realm: '"
                        + (realm == null ? "" : RegistryException.abbreviate(realm)) + "'", 401, List.of());
            }
            List<String> asked = new java.util.ArrayList<>(challenge.scopes());
            if (scope != null) {
                asked.addAll(List.of(scope.split(" ")));
            }
            Set<String> scopes = mergeScopes(asked);
            StringBuilder q = new StringBuilder(realmUri.getRawQuery() == null ? "" : realmUri.getRawQuery());
            String service = challenge.param("service");
            if (service != null) {
                q.append(q.length() > 0 ? "&" : "").append("service=").append(URLEncoder.encode(service, StandardCharsets.UTF_8));
            }
            for (String s : scopes) {
                q.append(q.length() > 0 ? "&" : "").append("scope=").append(URLEncoder.encode(s, StandardCharsets.UTF_8));
            }
            URI tokenUri = URI.create(realmUri.getScheme() + "://" + realmUri.getRawAuthority()
                    + (realmUri.getRawPath() == null ? "" : realmUri.getRawPath()) + (q.length() > 0 ? "?" + q : ""));
            HttpRequest.Builder rb = HttpRequest.newBuilder(tokenUri).GET().timeout(timeout)
                    .header("User-Agent", userAgent).header("Accept", "application/json");
            if (basicHeader != null) {
                rb.header("Authorization", basicHeader);
            }
            HttpResponse<InputStream> resp;
            try {
                resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryException("interrupted while fetching a token from " + realmUri, e);
            }
            byte[] body;
            try (InputStream in = resp.body()) {
                body = in.readNBytes(MAX_TOKEN_RESPONSE + 1);
            }
            if (resp.statusCode() != 200) {
                var errors = RegistryException.parseErrors(body);
                throw new RegistryException("token request to " + realmUri + " for scope '" + String.join(" ", scopes)
                        + "' failed with status " + resp.statusCode()
                        + (resp.statusCode() == 401 ? " (wrong or missing credentials)" : "")
                        + (errors.isEmpty() ? "" : ": " + errors), resp.statusCode(), errors);
            }
            if (body.length > MAX_TOKEN_RESPONSE) {
                throw new RegistryException("token response from " + realmUri + " exceeds " + MAX_TOKEN_RESPONSE + " bytes");
            }
            tokens.put(key, parseToken(body, realmUri));
            log.debug("registry.token fetched realm={} scope=\"{}\"", realmUri, String.join(" ", scopes));
        }
    }

    /**
     * Merges scopes per resource, actions sorted: the registry lists actions in no fixed order
     * ({@code push,pull}), and asking twice for one resource would be redundant.
     */
    static Set<String> mergeScopes(List<String> scopes) {
        Map<String, java.util.TreeSet<String>> byResource = new java.util.LinkedHashMap<>();
        Set<String> opaque = new LinkedHashSet<>();
        for (String s : scopes) {
            if (s == null || s.isBlank()) {
                continue;
            }
            int first = s.indexOf(':');
            int last = s.lastIndexOf(':');
            if (first <= 0 || last == first) {
                opaque.add(s); // not type:name:actions; pass through unchanged
                continue;
            }
            var actions = byResource.computeIfAbsent(s.substring(0, last), k -> new java.util.TreeSet<>());
            for (String a : s.substring(last + 1).split(",")) {
                if (!a.isBlank()) {
                    actions.add(a.trim());
                }
            }
        }
        Set<String> out = new LinkedHashSet<>();
        byResource.forEach((resource, actions) -> out.add(resource + ":" + String.join(",", actions)));
        out.addAll(opaque);
        return out;
    }

    /** Tokens are cached per requested scope; requests without one (e.g. {@code /v2/}) share "". */
    private static String key(String scope) {
        return scope == null ? "" : scope;
    }

    static Token parseToken(byte[] body, URI realm) throws RegistryException {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            throw new RegistryException("token response from " + realm + " is not JSON");
        }
        if (root == null || !root.isObject()) {
            throw new RegistryException("token response from " + realm + " is not a JSON object");
        }
        JsonNode t = root.get("token");
        if (t == null || !t.isTextual() || t.textValue().isEmpty()) {
            t = root.get("access_token");
        }
        if (t == null || !t.isTextual() || t.textValue().isEmpty()) {
            throw new RegistryException("token response from " + realm + " has neither 'token' nor 'access_token'");
        }
        String value = t.textValue();
        // The token goes into a header: refuse anything that could break out of it.
        if (!value.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new RegistryException("token from " + realm + " contains characters not allowed in a header");
        }
        Duration lifetime = DEFAULT_TOKEN_LIFETIME;
        JsonNode exp = root.get("expires_in");
        if (exp != null && exp.isIntegralNumber() && exp.canConvertToLong() && exp.longValue() > 0) {
            lifetime = Duration.ofSeconds(Math.min(exp.longValue(), 24 * 3600));
        }
        Instant expires = Instant.now().plus(lifetime).minus(EXPIRY_MARGIN.compareTo(lifetime) < 0
                ? EXPIRY_MARGIN : Duration.ZERO);
        return new Token(value, expires);
    }
}
