package io.layerswarm.handoff;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.layerswarm.libp2p.crypto.PeerId;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's local handoff control API, plain HTTP on a loopback address only (whoever can reach it
 * can move this node's containers, so it never listens beyond the host):
 * <ul>
 *   <li>{@code POST /v1/handoff/prepare?container=ID&target=PEER} → 200 {@code {"stage":{...}}}</li>
 *   <li>{@code POST /v1/handoff/run?container=ID&target=PEER} → 200 the {@link HandoffReport}</li>
 * </ul>
 * Failures answer {@code {"error":"..."}} with 400 (bad request), 404, 405 or 502 (the handoff failed;
 * the container was rolled back).
 */
public final class HandoffControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HandoffControlServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService executor;

    private HandoffControlServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Listens on {@code address} (a loopback address) and serves {@code service}.
     *
     * @throws IllegalArgumentException if the address is not loopback
     */
    public static HandoffControlServer start(InetSocketAddress address, HandoffService service) throws IOException {
        Objects.requireNonNull(service, "service");
        if (address.getAddress() == null || !address.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException("the handoff control API listens on loopback only, not " + address);
        }
        HttpServer s = HttpServer.create(address, 16);
        // one handoff at a time per request thread; handoffs block for their whole run
        ExecutorService ex = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "handoff-control");
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(ex);
        s.createContext("/", x -> handle(x, service));
        s.start();
        LOG.info("event=handoff.controlListening address={}", s.getAddress());
        return new HandoffControlServer(s, ex);
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** {@code http://HOST:PORT}. */
    public URI url() {
        return URI.create("http://" + address().getHostString() + ":" + address().getPort());
    }

    private static void handle(HttpExchange x, HandoffService service) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath();
            boolean prepare = path.equals("/v1/handoff/prepare");
            if (!prepare && !path.equals("/v1/handoff/run")) {
                reply(x, 404, error("no such endpoint: " + path));
                return;
            }
            if (!x.getRequestMethod().equals("POST")) {
                reply(x, 405, error("use POST"));
                return;
            }
            Map<String, String> q;
            PeerId target;
            String container;
            try {
                q = query(x.getRequestURI().getRawQuery());
                container = required(q, "container");
                target = PeerId.parse(required(q, "target"));
            } catch (IllegalArgumentException e) {
                reply(x, 400, error(e.getMessage()));
                return;
            }
            try {
                if (prepare) {
                    ObjectNode o = JSON.createObjectNode();
                    o.set("stage", JSON.valueToTree(service.prepare(container, target)));
                    reply(x, 200, o.toString());
                } else {
                    reply(x, 200, service.run(container, target).toJson());
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("event=handoff.controlFailed path={} container={} error=\"{}\"", path, container,
                        e.getMessage());
                reply(x, 502, error(String.valueOf(e.getMessage())));
            }
        }
    }

    /** Parses {@code a=b&c=d}; a repeated or malformed parameter is an error. */
    static Map<String, String> query(String raw) {
        Map<String, String> out = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String part : raw.split("&")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("malformed query parameter '" + part + "'");
            }
            String k = URLDecoder.decode(part.substring(0, eq), StandardCharsets.UTF_8);
            if (out.put(k, URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8)) != null) {
                throw new IllegalArgumentException("query parameter " + k + " given twice");
            }
        }
        return out;
    }

    private static String required(Map<String, String> q, String name) {
        String v = q.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("missing query parameter " + name);
        }
        return v;
    }

    private static String error(String message) {
        return JSON.createObjectNode().put("error", message).toString();
    }

    private static void reply(HttpExchange x, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.sendResponseHeaders(status, b.length);
        try (OutputStream o = x.getResponseBody()) {
            o.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
