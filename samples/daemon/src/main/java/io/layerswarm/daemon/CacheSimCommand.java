package io.layerswarm.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.layerswarm.cache.policy.Policies;
import io.layerswarm.cache.ByteSize;
import io.layerswarm.cache.sim.CacheSimulator;
import io.layerswarm.cache.sim.ImageCatalog;
import io.layerswarm.cache.sim.SimResult;
import io.layerswarm.cache.sim.TraceEvent;
import io.layerswarm.cache.sim.TraceFile;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code layerswarm cache-sim}: replays a deployment trace against layer cache policies. */
@Command(name = "cache-sim", mixinStandardHelpOptions = true,
        description = "Replay a deployment trace over N nodes and report layer cache hit ratios per policy and capacity.")
public final class CacheSimCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--trace", required = true, description = "JSON lines {\"ts\": ms, \"node\": id, \"image\": name:tag}.")
    private Path trace;

    @Option(names = "--images", required = true, description = "JSON {\"name:tag\": {\"layers\": [{\"digest\", \"size\"}]}}.")
    private Path images;

    @Option(names = "--nodes", required = true, description = "Number of nodes in the cluster.")
    private int nodes;

    @Option(names = "--capacity", required = true, split = ",",
            description = "Per-node capacity, e.g. 0,500MB,1GB,2GiB or bytes; comma-separated for several.")
    private List<String> capacities;

    @Option(names = "--policy", defaultValue = "all",
            description = "arc|lru|tinylfu|image-lru|k8s-gc|cluster-arc|all (default: ${DEFAULT-VALUE}).")
    private String policy;

    @Option(names = "--cluster-window", defaultValue = "" + Policies.DEFAULT_CLUSTER_WINDOW,
            description = "Eviction candidates cluster-arc compares per list (default: ${DEFAULT-VALUE}).")
    private int clusterWindow;

    @Option(names = "--json", description = "Print a JSON array instead of a Markdown table.")
    private boolean json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Long> caps = new ArrayList<>();
        List<String> policies;
        List<TraceEvent> events;
        ImageCatalog catalog;
        CacheSimulator sim;
        try {
            for (String c : capacities) {
                caps.add(ByteSize.parse(c));
            }
            policies = "all".equals(policy) ? Policies.NAMES : List.of(policy);
            for (String p : policies) {
                Policies.create(p, 0, io.layerswarm.cache.policy.ReplicaView.NONE, clusterWindow); // validates name and window before any work
            }
            catalog = ImageCatalog.read(images);
            events = TraceFile.read(trace);
            sim = new CacheSimulator(events, catalog, nodes);
        } catch (IllegalArgumentException | java.io.IOException e) {
            err.println("cache-sim: " + e.getMessage());
            return 2;
        }
        List<SimResult> results = new ArrayList<>();
        for (long cap : caps) {
            for (String p : policies) {
                results.add(sim.run(p, cap, clusterWindow));
            }
        }
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(results));
        } else {
            out.println("| capacity | policy | requests | hit ratio | byte hit ratio | cluster byte hit ratio | registry bytes |");
            out.println("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
            for (SimResult r : results) {
                out.println(String.format(Locale.ROOT, "| %s | %s | %d | %.4f | %.4f | %.4f | %s |",
                        ByteSize.format(r.capacityBytes()), r.policy(), r.requests(), r.hitRatio(),
                        r.byteHitRatio(), r.clusterByteHitRatio(), ByteSize.format(r.registryBytes())));
            }
        }
        out.flush();
        return 0;
    }
}
