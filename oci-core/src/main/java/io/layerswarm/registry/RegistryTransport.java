package io.layerswarm.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP mechanism under {@link RegistryClient}: one request in, one {@link Reply} out, with a
 * concurrency permit, authentication, retries and redirects handled here so the protocol code above
 * stays linear.
 */
final class RegistryTransport {
    private static final Logger log = LoggerFactory.getLogger(RegistryTransport.class);
    private static final int MAX_REDIRECTS = 5;

    /**
     * One logical request.
     *
     * @param method HTTP method
     * @param uri absolute URI
     * @param headers extra headers
     * @param body a repeatable body publisher, or null for none
     * @param scope the token scope the request needs (e.g. {@code repository:a:pull})
     * @param retryable whether the request may be sent again after 5xx/429/connection loss
     * @param asIs sent exactly once with the given headers only: no credentials of this client, no
     *     answer to a challenge, no redirect followed (for checking someone else's credentials)
     */
    record Call(String method, URI uri, Map<String, String> headers, HttpRequest.BodyPublisher body,
                String scope, boolean retryable, boolean asIs) {
        Call {
            Objects.requireNonNull(method);
            Objects.requireNonNull(uri);
            headers = headers == null ? Map.of() : Map.copyOf(headers);
        }

        Call(String method, URI uri, Map<String, String> headers, HttpRequest.BodyPublisher body, String scope,
             boolean retryable) {
            this(method, uri, headers, body, scope, retryable, false);
        }
    }

    private final HttpClient http;
    private final URI base;
    private final RegistryAuth auth;
    private final Semaphore permits;
    private final RetryPolicy retry;
    private final Duration requestTimeout;
    private final String userAgent;
    private final IdleWatchdog watchdog;

    RegistryTransport(HttpClient http, URI base, RegistryAuth auth, int maxConcurrent, RetryPolicy retry,
                      Duration requestTimeout, Duration readTimeout, String userAgent) {
        this.watchdog = new IdleWatchdog(readTimeout);
        this.http = http;
        this.base = base;
        this.auth = auth;
        this.permits = new Semaphore(maxConcurrent, true);
        this.retry = retry;
        this.requestTimeout = requestTimeout;
        this.userAgent = userAgent;
    }

    /**
     * Sends a call. Returns the reply for any status except 401s that authentication resolved and
     * redirects that were followed; 5xx/429 are retried first if the call allows it. The caller
     * must close the reply.
     */
    Reply send(Call call) throws IOException {
        int attempt = 1;
        boolean authRetried = false;
        URI uri = call.uri();
        int redirects = 0;
        while (true) {
            acquire();
            boolean handedOver = false;
            try {
                String authorization = sameOrigin(uri) && !call.asIs() ? auth.authorizationFor(call.scope()) : null;
                HttpRequest.Builder rb = HttpRequest.newBuilder(uri).timeout(requestTimeout)
                        .header("User-Agent", userAgent)
                        .method(call.method(), call.body() == null ? HttpRequest.BodyPublishers.noBody() : call.body());
                call.headers().forEach(rb::header);
                if (authorization != null) {
                    rb.header("Authorization", authorization);
                }
                HttpResponse<InputStream> resp;
                long start = System.nanoTime();
                try {
                    resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
                } catch (IOException e) {
                    if (call.retryable() && attempt < retry.maxAttempts()) {
                        log.warn("registry.retry method={} uri={} attempt={} cause=\"{}\"", call.method(), uri, attempt, e.toString());
                        permits.release();
                        handedOver = true;
                        sleep(retry.backoff(attempt));
                        attempt++;
                        continue;
                    }
                    throw new RegistryException(call.method() + " " + uri + " failed after " + attempt
                            + " attempt(s): " + e, e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RegistryException("interrupted during " + call.method() + " " + uri, e);
                }
                int status = resp.statusCode();
                log.debug("registry.http method={} uri={} status={} attempt={} ms={}", call.method(), uri, status,
                        attempt, (System.nanoTime() - start) / 1_000_000);
                Reply reply = new Reply(call.method(), uri, status, resp.headers(),
                        watchdog.watch(resp.body(), call.method() + " " + uri.getRawPath()), permits::release);
                handedOver = true;
                if (call.asIs()) {
                    return reply;
                }
                if (status == 401 && !authRetried && sameOrigin(uri)) {
                    List<String> challenges = resp.headers().allValues("WWW-Authenticate");
                    if (auth.onChallenge(challenges, call.scope(), authorization)) {
                        reply.close();
                        authRetried = true;
                        continue;
                    }
                    return reply;
                }
                if (isRedirect(status) && (call.method().equals("GET") || call.method().equals("HEAD"))) {
                    String location = resp.headers().firstValue("Location").orElse(null);
                    if (location == null || ++redirects > MAX_REDIRECTS) {
                        return reply;
                    }
                    reply.close();
                    URI next = uri.resolve(location);
                    if (!next.getScheme().equals("http") && !next.getScheme().equals("https")) {
                        throw new RegistryException("registry redirected " + uri + " to unsupported location " + next);
                    }
                    log.debug("registry.redirect from={} to={}", uri, next.getScheme() + "://" + next.getRawAuthority() + next.getRawPath());
                    uri = next;
                    continue;
                }
                if ((status == 429 || status >= 500) && call.retryable() && attempt < retry.maxAttempts()) {
                    Duration wait = retryAfter(resp).orElse(retry.backoff(attempt));
                    log.warn("registry.retry method={} uri={} status={} attempt={} waitMs={}", call.method(), uri, status,
                            attempt, wait.toMillis());
                    reply.close();
                    sleep(wait);
                    attempt++;
                    continue;
                }
                return reply;
            } finally {
                if (!handedOver) {
                    permits.release();
                }
            }
        }
    }

    private java.util.Optional<Duration> retryAfter(HttpResponse<?> resp) {
        return resp.headers().firstValue("Retry-After").flatMap(v -> {
            try {
                long s = Long.parseLong(v.trim());
                return java.util.Optional.of(Duration.ofSeconds(Math.max(0, s)));
            } catch (NumberFormatException e) {
                return java.util.Optional.empty();
            }
        }).map(d -> d.compareTo(retry.maxBackoff()) > 0 ? retry.maxBackoff() : d);
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    /** Credentials go only to the registry itself, never to storage it redirects to. */
    boolean sameOrigin(URI uri) {
        return Objects.equals(uri.getScheme(), base.getScheme()) && Objects.equals(uri.getHost(), base.getHost())
                && uri.getPort() == base.getPort();
    }

    private void acquire() throws RegistryException {
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while waiting for a request slot", e);
        }
    }

    static void sleep(Duration d) throws RegistryException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted during retry backoff", e);
        }
    }
}
