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
    private volatile String failHeader;
    private final AtomicLong cutAfter = new AtomicLong(-1);
    private volatile boolean redirectBlobs;
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
        failStatus = status;
        failHeader = retryAfter;
        failCount.set(n);
    }

    /** The next blob GET is forwarded, but its connection is cut after {@code bytes} body bytes. */
    public void cutNextBlobDownloadAfter(long bytes) {
        cutAfter.set(bytes);
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
            if (failCount.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
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
            forward(ex, method, pathAndQuery, blobGet ? cutAfter.getAndSet(-1) : -1);
        }
    }

    private void forward(HttpExchange ex, String method, String pathAndQuery, long cut) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(upstream + pathAndQuery))
                .method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        for (Map.Entry<String, List<String>> h : ex.getRequestHeaders().entrySet()) {
            if (!HOP_HEADERS.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                h.getValue().forEach(v -> rb.header(h.getKey(), v));
            }
        }
        HttpResponse<InputStream> resp;
        try {
            resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        resp.headers().map().forEach((k, vs) -> {
            if (!HOP_HEADERS.contains(k.toLowerCase(Locale.ROOT)) || k.equalsIgnoreCase("content-length") && method.equals("HEAD")) {
                vs.forEach(v -> ex.getResponseHeaders().add(k, v));
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
                log.add(method + " " + pathAndQuery + " -> " + resp.statusCode() + " cut after " + cut);
                // Closing the socket under the exchange drops the connection mid-body.
                throw new IOException("connection cut by fault injection");
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
