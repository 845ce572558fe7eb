package io.layerswarm.k8s.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.k8s.extender.ExtenderHttpServer;
import io.layerswarm.k8s.extender.ExtenderJson;
import io.layerswarm.k8s.extender.ExtenderService;
import io.layerswarm.k8s.extender.HostPriority;
import io.layerswarm.k8s.extender.HostPriorityList;
import io.layerswarm.k8s.scoring.DeploymentTimeModel;
import io.layerswarm.k8s.scoring.ImageLayers;
import io.layerswarm.k8s.scoring.LayerInfo;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import io.layerswarm.k8s.scoring.ScoringPolicies;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.netty.channel.nio.NioEventLoopGroup;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Three libp2p node hosts publish signed status records to the extender's light peer; kube-scheduler's
 * prioritize call (real HTTP) ranks the holder first, and after the holder announces an eviction it
 * no longer does.
 */
class ExtenderOverSwarmTest {
    private static final long MIB = 1 << 20;
    private static final String WEB = "registry.example:5000/shop/web:3.1";

    @Test
    void holderRanksFirstUntilItAnnouncesEviction() throws Exception {
        LayerInfo base = new LayerInfo("sha256:base", 80 * MIB);
        LayerInfo app = new LayerInfo("sha256:app", 300 * MIB);
        StatusRecordCodec codec = new StatusRecordCodec();
        SwarmClusterView view = new SwarmClusterView(codec,
                new StatusRecordVerifier(Clock.systemUTC(), Duration.ofMinutes(5), Duration.ofSeconds(5)), Clock.systemUTC(), Map.of());
        NioEventLoopGroup boss = new NioEventLoopGroup(1);
        NioEventLoopGroup workers = new NioEventLoopGroup(1);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<Host> hosts = new ArrayList<>();
        try {
            Host scheduler = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).ioThreads(1).build().start();
            hosts.add(scheduler);
            NodeStatusProtocol.attach(scheduler, view);
            Multiaddr schedulerAddr = scheduler.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + scheduler.peerId().toBase58()));
            Map<String, Ed25519PrivateKey> keys = new LinkedHashMap<>();
            Map<String, Host> nodes = new LinkedHashMap<>();
            for (String n : List.of("edge-a", "edge-b", "edge-c")) {
                Ed25519PrivateKey k = Ed25519PrivateKey.generate();
                Host h = Host.builder(k).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).ioThreads(1).build().start();
                hosts.add(h);
                h.connect(schedulerAddr).get(10, TimeUnit.SECONDS);
                keys.put(n, k);
                nodes.put(n, h);
            }
            long[] version = {0};
            java.util.function.BiFunction<String, Map<String, Long>, SwarmClusterView.Result> publish = (n, layers) -> {
                long now = System.currentTimeMillis();
                StatusRecord r = new StatusRecord(nodes.get(n).peerId().toBase58(), ++version[0], now, now + 60_000,
                        new NodeStatus(n, layers, 1000 * MIB, 600 * MIB, 0, Map.of("*", LinkEstimate.mbps(20, 50)), Map.of()));
                try {
                    return NodeStatusProtocol.publish(nodes.get(n), scheduler.peerId(), codec.encode(codec.sign(r, keys.get(n))), pool)
                            .get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            };
            assertEquals(SwarmClusterView.Result.ACCEPTED, publish.apply("edge-a", Map.of(base.digest(), base.size())));
            assertEquals(SwarmClusterView.Result.ACCEPTED, publish.apply("edge-b", Map.of(base.digest(), base.size(), app.digest(), app.size())));
            assertEquals(SwarmClusterView.Result.ACCEPTED, publish.apply("edge-c", Map.of()));

            ImageLayers web = new ImageLayers(WEB, "registry.example:5000", "sha256:m", List.of(base, app));
            SchedulingEngine engine = new SchedulingEngine(view, i -> CompletableFuture.completedFuture(web),
                    ScoringPolicies.create("layer-network", DeploymentTimeModel.edgeDefaults()), Duration.ofSeconds(1));
            try (ExtenderHttpServer server = ExtenderHttpServer.start(new InetSocketAddress("127.0.0.1", 0), "/layerswarm",
                    new ExtenderService(engine, a -> { }), 1 << 20, boss, workers, pool)) {
                assertEquals("edge-b", top(server));
                assertEquals(SwarmClusterView.Result.ACCEPTED, publish.apply("edge-b", Map.of())); // evicted, announced
                String after = top(server);
                assertTrue(!after.equals("edge-b"), "the node that lost its layers no longer ranks first: " + after);
                assertEquals("edge-a", after, "edge-a still holds the base layer");
            }
        } finally {
            hosts.forEach(Host::close);
            pool.shutdownNow();
            boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }

    private static String top(ExtenderHttpServer server) throws Exception {
        String body = "{\"Pod\":{\"metadata\":{\"name\":\"web\"},\"spec\":{\"containers\":[{\"image\":\"" + WEB
                + "\"}]}},\"Nodes\":null,\"NodeNames\":[\"edge-a\",\"edge-b\",\"edge-c\"]}";
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url() + "/prioritize"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        List<HostPriority> p = new ExtenderJson().read(r.body().getBytes(StandardCharsets.UTF_8), HostPriorityList.class).priorities();
        HostPriority best = p.get(0);
        for (HostPriority h : p) {
            if (h.score() > best.score()) {
                best = h;
            }
        }
        long ties = p.stream().filter(h -> h.score() == p.stream().mapToLong(HostPriority::score).max().orElse(0)).count();
        assertEquals(1, ties, "a clear winner: " + p);
        return best.host();
    }
}
