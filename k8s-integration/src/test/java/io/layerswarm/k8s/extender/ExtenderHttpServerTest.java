package io.layerswarm.k8s.extender;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.scoring.ImageLayers;
import io.layerswarm.k8s.scoring.LayerInfo;
import io.layerswarm.k8s.scoring.LayerResolver;
import io.layerswarm.k8s.scoring.ScoringPolicies;
import io.layerswarm.k8s.scoring.DeploymentTimeModel;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.k8s.view.QueuedPods;
import io.netty.channel.nio.NioEventLoopGroup;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ExtenderHttpServerTest {
    private static final long MIB = 1 << 20;
    private static final String WEB = "registry.example:5000/shop/web:3.1";
    private final NioEventLoopGroup boss = new NioEventLoopGroup(1);
    private final NioEventLoopGroup workers = new NioEventLoopGroup(1);
    private final ExecutorService verbs = Executors.newFixedThreadPool(2);
    private final MutableClusterView view = new MutableClusterView();
    private final List<ExtenderBindingArgs> bound = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private ExtenderHttpServer server;

    @BeforeEach
    void start() throws Exception {
        LayerInfo base = new LayerInfo("sha256:base", 80 * MIB);
        LayerInfo app = new LayerInfo("sha256:app", 300 * MIB);
        ImageLayers web = new ImageLayers(WEB, "registry.example:5000", "sha256:m", List.of(base, app));
        LayerResolver resolver = image -> image.equals(WEB) ? CompletableFuture.completedFuture(web)
                : image.equals("registry.example:5000/slow:1") ? new CompletableFuture<>()
                : CompletableFuture.failedFuture(new IllegalStateException("manifest unknown: " + image));
        Map<String, LinkEstimate> reg = Map.of("*", LinkEstimate.mbps(20, 50));
        view.put(new NodeStatus("edge-a", Map.of("sha256:base", 80 * MIB, "sha256:app", 300 * MIB), 1000 * MIB, 500 * MIB, 0, reg, Map.of()));
        view.put(new NodeStatus("edge-b", Map.of("sha256:base", 80 * MIB), 1000 * MIB, 100 * MIB, 50 * MIB, reg, Map.of()));
        view.put(new NodeStatus("edge-c", Map.of(), 1000 * MIB, 900 * MIB, 0, reg, Map.of()));
        SchedulingEngine engine = new SchedulingEngine(view, resolver,
                ScoringPolicies.create("layer-network", DeploymentTimeModel.edgeDefaults()), Duration.ofMillis(300));
        server = ExtenderHttpServer.start(new InetSocketAddress("127.0.0.1", 0), "/layerswarm",
                new ExtenderService(engine, bound::add), 1 << 20, boss, workers, verbs);
    }

    @AfterEach
    void stop() {
        server.close();
        verbs.shutdownNow();
        boss.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
    }

    private HttpResponse<String> post(String verb, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.url() + "/" + verb))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String args(String image, String nodes) {
        return "{\"Pod\":{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\""
                + image + "\"}]}},\"Nodes\":null,\"NodeNames\":" + nodes + "}";
    }

    @Test
    void filterFailsTheFullNodeWithItsReason() throws Exception {
        HttpResponse<String> r = post("filter", args(WEB, "[\"edge-a\",\"edge-b\",\"edge-c\",\"not-in-swarm\"]"));
        assertEquals(200, r.statusCode(), r.body());
        ExtenderFilterResult f = new ExtenderJson().read(r.body().getBytes(StandardCharsets.UTF_8), ExtenderFilterResult.class);
        assertEquals(List.of("edge-a", "edge-c", "not-in-swarm"), f.nodeNames());
        assertEquals(null, f.nodes());
        assertTrue(f.failedNodes().get("edge-b").contains("300.0 MiB of missing layers: 100.0 MiB free + 50.0 MiB evictable"),
                f.failedNodes().toString());
        assertEquals("", f.error());
    }

    @Test
    void filterWithFullNodeObjectsAnswersNodes() throws Exception {
        String body = "{\"Pod\":{\"metadata\":{\"name\":\"web\"},\"spec\":{\"containers\":[{\"image\":\"" + WEB
                + "\"}]}},\"Nodes\":{\"items\":[{\"metadata\":{\"name\":\"edge-b\"}},{\"metadata\":{\"name\":\"edge-c\",\"labels\":{\"zone\":\"z1\"}}}]}}";
        HttpResponse<String> r = post("filter", body);
        assertEquals(200, r.statusCode(), r.body());
        ExtenderFilterResult f = new ExtenderJson().read(r.body().getBytes(StandardCharsets.UTF_8), ExtenderFilterResult.class);
        assertEquals(null, f.nodeNames());
        assertEquals(1, f.nodes().getItems().size());
        assertEquals("z1", f.nodes().getItems().get(0).getMetadata().getLabels().get("zone"));
    }

    @Test
    void prioritizeRanksTheHolderFirst() throws Exception {
        HttpResponse<String> r = post("prioritize", args(WEB, "[\"edge-c\",\"edge-b\",\"edge-a\"]"));
        assertEquals(200, r.statusCode(), r.body());
        List<HostPriority> p = new ExtenderJson().read(r.body().getBytes(StandardCharsets.UTF_8), HostPriorityList.class).priorities();
        assertEquals(List.of("edge-c", "edge-b", "edge-a"), p.stream().map(HostPriority::host).toList());
        assertTrue(p.get(2).score() > p.get(1).score() && p.get(2).score() > p.get(0).score(), p.toString());
    }

    @Test
    void unresolvableImagesScoreZeroInsteadOfFailingTheCycle() throws Exception {
        for (String image : List.of("registry.example:5000/gone:1", "registry.example:5000/slow:1")) {
            HttpResponse<String> r = post("prioritize", args(image, "[\"edge-a\",\"edge-c\"]"));
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("[{\"Host\":\"edge-a\",\"Score\":0},{\"Host\":\"edge-c\",\"Score\":0}]", r.body());
            HttpResponse<String> f = post("filter", args(image, "[\"edge-a\",\"edge-c\"]"));
            assertTrue(f.body().contains("\"NodeNames\":[\"edge-a\",\"edge-c\"]"), f.body());
        }
    }

    @Test
    void bindHandsTheDecisionOn() throws Exception {
        HttpResponse<String> r = post("bind", "{\"PodName\":\"web\",\"PodNamespace\":\"shop\",\"PodUID\":\"u1\",\"Node\":\"edge-a\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("{\"Error\":\"\"}", r.body());
        assertEquals(List.of(new ExtenderBindingArgs("web", "shop", "u1", "edge-a")), bound);
    }

    @Test
    void badRequestsGet400WithAReasonAndTheServerKeepsServing() throws Exception {
        HttpResponse<String> garbage = post("filter", "{\"Pod\": [1,2");
        assertEquals(400, garbage.statusCode());
        assertTrue(garbage.body().startsWith("malformed ExtenderArgs"), garbage.body());
        HttpResponse<String> noNodes = post("prioritize", "{\"Pod\":{}}");
        assertEquals(400, noNodes.statusCode());
        assertTrue(noNodes.body().contains("neither Nodes nor NodeNames"), noNodes.body());
        HttpResponse<String> badBind = post("bind", "{\"PodName\":\"web\"}");
        assertEquals(400, badBind.statusCode());
        assertTrue(badBind.body().contains("no PodNamespace"), badBind.body());
        HttpResponse<String> huge = post("filter", "[" + "0,".repeat(600_000) + "0]");
        assertEquals(400, huge.statusCode());
        assertTrue(huge.body().contains("exceeds 1048576 bytes"), huge.body());
        assertEquals(404, post("preempt", "{}").statusCode());
        assertEquals(405, http.send(HttpRequest.newBuilder(URI.create(server.url() + "/filter")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        try (Socket s = new Socket("127.0.0.1", server.address().getPort())) {
            OutputStream out = s.getOutputStream();
            out.write("\u0001\u0002 NOT HTTP AT ALL\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
        }
        assertEquals(200, post("prioritize", args(WEB, "[\"edge-a\"]")).statusCode());
        assertEquals("ok\n", http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + "/healthz")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    /**
     * Without an API server the caller says when a bound pod started: it stops counting as queued on its node
     * (else it would hold the node's score down until --queued-pod-max-age); garbage is refused with a reason.
     */
    @Test
    void startedTakesABoundPodOffItsNodesQueue() throws Exception {
        server.close();
        QueuedPods queued = new QueuedPods(java.time.Clock.systemUTC(), Duration.ofMinutes(5));
        SchedulingEngine engine = new SchedulingEngine(view, image -> CompletableFuture.failedFuture(
                new IllegalStateException("unused")), ScoringPolicies.create("layer-network",
                DeploymentTimeModel.edgeDefaults()), Duration.ofMillis(300), queued);
        server = ExtenderHttpServer.start(new InetSocketAddress("127.0.0.1", 0), "/layerswarm",
                new ExtenderService(engine, bound::add, queued), 1 << 20, boss, workers, verbs);
        assertEquals(200, post("bind", "{\"PodName\":\"web-1\",\"PodNamespace\":\"shop\",\"PodUID\":\"u1\",\"Node\":\"edge-a\"}")
                .statusCode());
        assertEquals(200, post("bind", "{\"PodName\":\"web-2\",\"PodNamespace\":\"shop\",\"PodUID\":\"u2\",\"Node\":\"edge-a\"}")
                .statusCode());
        assertEquals(Map.of("edge-a", 2), queued.byNode());
        HttpResponse<String> r = post("started", "{\"PodName\":\"web-1\",\"PodNamespace\":\"shop\"}");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("\"Error\":\"\""), r.body());
        assertEquals(Map.of("edge-a", 1), queued.byNode());
        assertEquals(List.of("shop/web-2"), queued.podsOn("edge-a"));
        // a start nobody queued (or repeated) is fine: the pod may have aged out already
        assertEquals(200, post("started", "{\"PodName\":\"web-1\",\"PodNamespace\":\"shop\"}").statusCode());
        HttpResponse<String> noNamespace = post("started", "{\"PodName\":\"web-2\"}");
        assertEquals(400, noNamespace.statusCode());
        assertTrue(noNamespace.body().contains("PodNamespace"), noNamespace.body());
        HttpResponse<String> garbage = post("started", "\u0000{[not json");
        assertEquals(400, garbage.statusCode());
        assertEquals(Map.of("edge-a", 1), queued.byNode());
    }
}
