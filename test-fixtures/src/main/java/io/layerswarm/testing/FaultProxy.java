package io.layerswarm.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small HTTP reverse proxy on loopback in front of a registry that injects faults on demand:
 * error statuses, connections cut mid-body, and redirects of blob downloads to the upstream
 * (as registries do to their storage). Used to test retries, resume and redirect handling against
 * the real registry behind it.
 */
public final class FaultProxy implements AutoCloseable {
    private static final Set<String> HOP_HEADERS = Set.of("host", "connection", "content-length", "transfer-encoding",
            "expect", "upgrade", "keep-alive", "te", "trailer", "proxy-connection", "date");

    private final URI upstream;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fault-proxy");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
    private final AtomicInteger failCount = new AtomicInteger();
    private volatile int failStatus;
    private volatile String failMethod;
    private final AtomicInteger failSkip = new AtomicInteger();
    private volatile String failHeader;
    private final AtomicLong cutAfter = new AtomicLong(-1);
    private final AtomicLong stallAfter = new AtomicLong(-1);
    private volatile long stallMillis;
    private volatile boolean redirectBlobs;
    private volatile long delayMillis;
    private final AtomicInteger corruptCount = new AtomicInteger();
    private volatile String corruptPath;
    private final AtomicInteger swallowCount = new AtomicInteger();
    private volatile String swallowMethod;
    private volatile int swallowStatus;
    private final List<String> log = new CopyOnWriteArrayList<>();

    private FaultProxy(URI upstream) throws IOException {
        this.upstream = upstream;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** Starts a proxy to {@code upstream} (e.g. {@link RegistryFixture#baseUri()}). */
    public static FaultProxy start(URI upstream) {
        try {
            return new FaultProxy(upstream);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot start fault proxy", e);
        }
    }

    /** The proxy's base URI. */
    public URI baseUri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** The next {@code n} requests are answered with {@code status} (and an optional Retry-After) without reaching upstream. */
    public void failNext(int n, int status, String retryAfter) {
        failMethod = null;
        failSkip.set(0);
        failStatus = status;
        failHeader = retryAfter;
        failCount.set(n);
    }

    /**
     * After letting {@code skip} requests with this method through, the next {@code n} of them are
     * answered with {@code status} without reaching upstream.
     */
    public void failNext(String method, int skip, int n, int status) {
        failSkip.set(skip);
        failMethod = method;
        failStatus = status;
        failHeader = null;
        failCount.set(n);
    }

    /** The next blob GET is forwarded, but sends nothing for {@code millis} after {@code bytes} body bytes, then is cut. */
    public void stallNextBlobDownloadAfter(long bytes, long millis) {
        stallMillis = millis;
        stallAfter.set(bytes);
    }

    /** The next blob GET is forwarded, but its connection is cut after {@code bytes} body bytes. */
    public void cutNextBlobDownloadAfter(long bytes) {
        cutAfter.set(bytes);
    }

    /**
     * The next {@code n} requests with this method reach the registry, but the client gets
     * {@code status} instead of the registry's answer (a response lost after the server acted).
     */
    public void swallowNextResponses(String method, int n, int status) {
        swallowMethod = method;
        swallowStatus = status;
        swallowCount.set(n);
    }

    /**
     * The next {@code n} GET responses whose path contains {@code pathPart} are forwarded with one
     * body byte flipped (a registry or network serving wrong content).
     */
    public void corruptNext(String pathPart, int n) {
        corruptPath = pathPart;
        corruptCount.set(n);
    }

    /**
     * Every later request waits {@code millis} before it is handled: a distant registry (each request
     * costs that much more; bodies still flow at loopback speed). 0 turns it off.
     */
    public void delayEveryRequest(long millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("negative delay " + millis);
        }
        delayMillis = millis;
    }

    /** Whether blob GETs are answered with a 307 to the upstream registry itself. */
    public void redirectBlobs(boolean on) {
        redirectBlobs = on;
    }

    /** One line per request: {@code METHOD path -> status [note]}. */
    public List<String> log() {
        return List.copyOf(log);
    }

    private void handle(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        String pathAndQuery = ex.getRequestURI().getRawPath()
                + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery());
        boolean blobGet = method.equals("GET") && pathAndQuery.matches("/v2/.+/blobs/sha(256|512):[0-9a-f]+");
        try (ex) {
            long delay = delayMillis;
            if (delay > 0) {
                try {
                    Thread.sleep(delay); // the injected latency itself, not a wait for something
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
            boolean matches = failMethod == null || failMethod.equals(method);
            if (matches && failCount.get() > 0 && failSkip.getAndUpdate(n -> n > 0 ? n - 1 : 0) == 0
                    && failCount.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
                ex.getRequestBody().readAllBytes();
                if (failHeader != null) {
                    ex.getResponseHeaders().set("Retry-After", failHeader);
                }
                ex.sendResponseHeaders(failStatus, -1);
                log.add(method + " " + pathAndQuery + " -> " + failStatus + " injected");
                return;
            }
            if (blobGet && redirectBlobs) {
                ex.getResponseHeaders().set("Location", upstream + pathAndQuery);
                ex.sendResponseHeaders(307, -1);
                log.add(method + " " + pathAndQuery + " -> 307 redirect");
                return;
            }
            if (method.equals(swallowMethod) && swallowCount.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
                try (InputStream ignored = upstream(ex, method, pathAndQuery).body()) {
                    ignored.transferTo(OutputStream.nullOutputStream());
                }
                ex.sendResponseHeaders(swallowStatus, -1);
                log.add(method + " " + pathAndQuery + " -> " + swallowStatus + " after forwarding");
                return;
            }
            long stall = blobGet ? stallAfter.getAndSet(-1) : -1;
            if (stall >= 0) {
                relay(ex, method, pathAndQuery, upstream(ex, method, pathAndQuery), stall, stallMillis);
                return;
            }
            forward(ex, method, pathAndQuery, blobGet ? cutAfter.getAndSet(-1) : -1);
        }
    }

    private void forward(HttpExchange ex, String method, String pathAndQuery, long cut) throws IOException {
        HttpResponse<InputStream> resp = upstream(ex, method, pathAndQuery);
        relay(ex, method, pathAndQuery, resp, cut, 0);
    }

    private HttpResponse<InputStream> upstream(HttpExchange ex, String method, String pathAndQuery) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(upstream + pathAndQuery))
                .method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        for (Map.Entry<String, List<String>> h : ex.getRequestHeaders().entrySet()) {
            if (!HOP_HEADERS.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                h.getValue().forEach(v -> rb.header(h.getKey(), v));
            }
        }
        try {
            return http.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private void relay(HttpExchange ex, String method, String pathAndQuery, HttpResponse<InputStream> resp, long cut,
                       long stallMs) throws IOException {
        resp.headers().map().forEach((k, vs) -> {
            if (!HOP_HEADERS.contains(k.toLowerCase(Locale.ROOT)) || k.equalsIgnoreCase("content-length") && method.equals("HEAD")) {
                // The registry builds absolute Locations from the Host it saw (upstream's): point them back here.
                vs.forEach(v -> ex.getResponseHeaders().add(k, k.equalsIgnoreCase("location") && v.startsWith(upstream.toString())
                        ? baseUri() + v.substring(upstream.toString().length()) : v));
            }
        });
        long length = resp.headers().firstValueAsLong("Content-Length").orElse(-2);
        try (InputStream in = resp.body()) {
            if (method.equals("HEAD") || length == 0 || resp.statusCode() == 204 || resp.statusCode() == 304) {
                ex.sendResponseHeaders(resp.statusCode(), -1);
                log.add(method + " " + pathAndQuery + " -> " + resp.statusCode());
                return;
            }
            ex.sendResponseHeaders(resp.statusCode(), length > 0 ? length : 0);
            OutputStream out = ex.getResponseBody();
            if (cut >= 0) {
                out.write(in.readNBytes((int) Math.min(cut, Integer.MAX_VALUE - 16)));
                out.flush();
                if (stallMs > 0) {
                    log.add(method + " " + pathAndQuery + " -> " + resp.statusCode() + " stalled after " + cut);
                    try {
                        Thread.sleep(stallMs);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                log.add(method + " " + pathAndQuery + " -> " + resp.statusCode() + " cut after " + cut);
                // Closing the socket under the exchange drops the connection mid-body.
                throw new IOException("connection cut by fault injection");
            }
            String cp = corruptPath;
            if (method.equals("GET") && cp != null && pathAndQuery.contains(cp)
                    && corruptCount.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
                byte[] data = in.readAllBytes();
                if (data.length > 0) {
                    data[data.length / 2] ^= 0x01;
                }
                out.write(data);
                log.add(method + " " + pathAndQuery + " -> " + resp.statusCode() + " corrupted");
                return;
            }
            in.transferTo(out);
            log.add(method + " " + pathAndQuery + " -> " + resp.statusCode());
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
