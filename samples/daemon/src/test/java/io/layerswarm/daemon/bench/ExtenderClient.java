package io.layerswarm.daemon.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * kube-scheduler's side of the extender protocol, as the testbed driver needs it: {@code filter} then
 * {@code prioritize} with {@code NodeNames} (a nodeCacheCapable extender), then {@code bind}, over HTTP with the
 * scheduler's 5 s timeout, in the {@code k8s.io/kube-scheduler/extender/v1} JSON.
 */
final class ExtenderClient {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    private final URI base;

    /** @param base the extender's URL with its prefix, e.g. {@code http://127.0.0.1:8888/layerswarm} */
    ExtenderClient(URI base) {
        this.base = base;
    }

    /** Filters, then prioritizes the survivors: 0..10 per node that passed the filter. */
    Map<String, Long> scores(String pod, String image, List<String> nodes) throws IOException, InterruptedException {
        JsonNode filtered = call("filter", args(pod, image, nodes));
        if (filtered.hasNonNull("Error") && !filtered.get("Error").asText().isEmpty()) {
            throw new IOException("extender filter error: " + filtered.get("Error").asText());
        }
        List<String> passed = new ArrayList<>();
        filtered.path("NodeNames").forEach(n -> passed.add(n.asText()));
        Map<String, Long> out = new LinkedHashMap<>();
        if (passed.isEmpty()) {
            return out;
        }
        for (JsonNode h : call("prioritize", args(pod, image, passed))) {
            out.put(h.get("Host").asText(), h.get("Score").asLong());
        }
        return out;
    }

    /**
     * The {@code bind} verb ({@code ExtenderBindingArgs}): the extender records the decision (its queued
     * pods) and, unless started with {@code --no-preheat}, preheats the node; an {@code Error} fails.
     */
    void bind(String pod, String node) throws IOException, InterruptedException {
        ObjectNode a = json.createObjectNode().put("PodName", pod).put("PodNamespace", "testbed")
                .put("PodUID", "testbed-" + pod).put("Node", node);
        JsonNode r = call("bind", a);
        if (r.hasNonNull("Error") && !r.get("Error").asText().isEmpty()) {
            throw new IOException("extender bind error: " + r.get("Error").asText());
        }
    }

    /**
     * LayerSwarm's {@code started} verb: the pod bound earlier runs now, so the extender stops counting it as
     * queued on its node (with an API server its pod watch sees this).
     */
    void started(String pod) throws IOException, InterruptedException {
        ObjectNode a = json.createObjectNode().put("PodName", pod).put("PodNamespace", "testbed");
        JsonNode r = call("started", a);
        if (r.hasNonNull("Error") && !r.get("Error").asText().isEmpty()) {
            throw new IOException("extender started error: " + r.get("Error").asText());
        }
    }

    private ObjectNode args(String pod, String image, List<String> nodes) {
        ObjectNode a = json.createObjectNode();
        ObjectNode p = a.putObject("Pod");
        p.putObject("metadata").put("name", pod).put("namespace", "testbed").put("uid", "testbed-" + pod);
        p.putObject("spec").putArray("containers").addObject().put("name", "app").put("image", image);
        nodes.forEach(a.putArray("NodeNames")::add);
        return a;
    }

    /** {@code GET /healthz}: opens the connection (and loads this client's classes) before anything is timed. */
    void ping() throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(base.resolve("/healthz")).timeout(TIMEOUT).GET().build();
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("extender healthz: HTTP " + r.statusCode());
        }
    }

    private JsonNode call(String verb, ObjectNode body) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/" + verb)).timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body))).build();
        HttpResponse<byte[]> r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IOException("extender " + verb + ": HTTP " + r.statusCode() + " " + new String(r.body()));
        }
        return json.readTree(r.body());
    }
}
