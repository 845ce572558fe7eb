package io.layerswarm.daemon.k8s;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.layerswarm.cache.sim.ImageCatalog;
import io.layerswarm.k8s.orchestrator.TransferPlan;
import io.layerswarm.k8s.orchestrator.TransferPlanner;
import io.layerswarm.k8s.scoring.CacheFitFilter;
import io.layerswarm.k8s.scoring.DeploymentTimeModel;
import io.layerswarm.k8s.scoring.LayerResolver;
import io.layerswarm.k8s.scoring.NodeScorer;
import io.layerswarm.k8s.scoring.PodLayers;
import io.layerswarm.k8s.scoring.RegistryLayerResolver;
import io.layerswarm.k8s.scoring.SchedulingEngine;
import io.layerswarm.k8s.sim.CatalogLayerResolver;
import io.layerswarm.k8s.scoring.ScoringPolicies;
import io.layerswarm.k8s.view.LinkEstimate;
import io.layerswarm.k8s.view.MutableClusterView;
import io.layerswarm.k8s.view.NodeStatus;
import io.layerswarm.oci.Platform;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code layerswarm schedule}: the scheduler without Kubernetes. Scores the nodes of a cluster view for
 * an image, picks one and prints the transfer plan that preheats it.
 */
@Command(name = "schedule", mixinStandardHelpOptions = true,
        description = "Score nodes for an image (filter, policy scores, predicted time), choose one and print its transfer plan.")
public final class ScheduleCommand implements Callable<Integer> {
    private static final long MAX_VIEW_BYTES = 64L << 20;

    @Spec
    private CommandSpec spec;

    @Option(names = "--image", required = true, description = "Image reference.")
    private String image;

    @Option(names = "--view", required = true,
            description = "Cluster view: JSON array of node statuses {nodeName, layers{digest: size}, capacityBytes, freeBytes, "
                    + "evictableBytes, registries{host: {bytesPerSecond, rttMillis}}, peers{node: {...}}}.")
    private Path viewFile;

    @Option(names = "--nodes", split = ",", description = "Candidate nodes (default: every node of the view).")
    private List<String> nodes;

    @Option(names = "--images", description = "Resolve the image from this images file (trace-gen format) instead of a registry.")
    private Path imagesFile;

    @Option(names = "--upstream", description = "Registry base URL to resolve the image from (e.g. http://127.0.0.1:5000).")
    private String upstream;

    @Option(names = "--platform", defaultValue = "linux/amd64", description = "Platform (default: ${DEFAULT-VALUE}).")
    private String platform;

    @Option(names = "--scoring", defaultValue = "layer-network", description = "Policy: image-locality|layer-locality|layer-network|predicted-time (default: ${DEFAULT-VALUE}).")
    private String scoring;

    @Option(names = "--max-uploads", defaultValue = "3", description = "Concurrent uploads per source node in the plan (default: ${DEFAULT-VALUE}).")
    private int maxUploads;

    @Option(names = "--json", description = "Print JSON.")
    private boolean json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            MutableClusterView view = readView(viewFile);
            List<String> candidates = nodes == null || nodes.isEmpty()
                    ? view.nodes().stream().map(NodeStatus::nodeName).sorted().toList() : nodes;
            DeploymentTimeModel model = DeploymentTimeModel.edgeDefaults();
            NodeScorer scorer = ScoringPolicies.create(scoring, model);
            SchedulingEngine engine = new SchedulingEngine(view, resolver(pool), scorer, Duration.ofSeconds(30));
            PodLayers pod = engine.resolve(List.of(image));
            if (!pod.unresolved().isEmpty()) {
                err.println("schedule: " + pod.unresolved().get(image));
                return 1;
            }
            SchedulingEngine.FilterOutcome filtered = engine.filter(pod, candidates);
            Map<String, Double> scores = engine.score(pod, filtered.passed());
            Map<String, Object> perNode = new LinkedHashMap<>();
            String chosen = null;
            double best = -1;
            for (String n : candidates) {
                Map<String, Object> row = new LinkedHashMap<>();
                NodeStatus s = view.node(n).orElse(null);
                if (s == null) {
                    row.put("note", "not in the cluster view");
                } else {
                    row.put("missingBytes", CacheFitFilter.missingBytes(pod, s));
                    row.put("predictedSeconds", model.predict(pod, s, view).seconds());
                }
                if (filtered.failed().containsKey(n)) {
                    row.put("filtered", filtered.failed().get(n));
                } else {
                    long wire = Math.round(scores.getOrDefault(n, 0.0));
                    row.put("score", wire);
                    row.put("rawScore", scores.getOrDefault(n, 0.0));
                    if (s != null && wire > best) {
                        best = wire;
                        chosen = n;
                    }
                }
                perNode.put(n, row);
            }
            TransferPlan plan = chosen == null ? new TransferPlan(List.of())
                    : new TransferPlanner(maxUploads, LinkEstimate.mbps(100, 2), LinkEstimate.mbps(20, 50)).plan(pod, List.of(chosen), view);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("image", image);
            result.put("scoring", scorer.name());
            result.put("layers", pod.distinctLayers());
            result.put("nodes", perNode);
            result.put("chosen", chosen);
            result.put("plan", plan.transfers());
            result.put("registryBytes", plan.registryBytes());
            if (json) {
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(result));
            } else {
                perNode.forEach((n, row) -> out.println(n + " " + row));
                out.println("chosen " + chosen);
                plan.transfers().forEach(t -> out.println(String.format(Locale.ROOT, "wave %d  %s <- %s %s  %s (%d bytes)",
                        t.wave(), t.target(), t.kind(), t.source(), t.layer(), t.size())));
            }
            out.flush();
            return chosen == null ? 3 : 0;
        } catch (IllegalArgumentException | java.io.IOException e) {
            err.println("schedule: " + e.getMessage());
            return 2;
        } finally {
            pool.shutdownNow();
        }
    }

    private LayerResolver resolver(ExecutorService pool) throws java.io.IOException {
        if (imagesFile != null) {
            return new CatalogLayerResolver(ImageCatalog.read(imagesFile));
        }
        if (upstream == null) {
            throw new IllegalArgumentException("give --images FILE or --upstream URL to resolve the image");
        }
        return new RegistryLayerResolver(RegistryClients.byHost(List.of(upstream)), Platform.parse(platform), pool,
                Duration.ofMinutes(5), Clock.systemUTC());
    }

    static MutableClusterView readView(Path file) throws java.io.IOException {
        if (Files.size(file) > MAX_VIEW_BYTES) {
            throw new IllegalArgumentException(file + " is larger than " + MAX_VIEW_BYTES + " bytes");
        }
        List<NodeStatus> list;
        try {
            list = new ObjectMapper().readValue(file.toFile(), new TypeReference<List<NodeStatus>>() { });
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException("malformed view " + file + ": " + e.getOriginalMessage());
        }
        if (list == null) {
            throw new IllegalArgumentException("view " + file + " is null");
        }
        MutableClusterView view = new MutableClusterView();
        for (NodeStatus s : list) {
            if (s == null) {
                throw new IllegalArgumentException("view " + file + " has a null node");
            }
            view.put(s);
        }
        return view;
    }
}
