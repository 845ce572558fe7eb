package io.layerswarm.daemon.k8s;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.layerswarm.cache.ByteSize;
import io.layerswarm.cache.sim.ImageCatalog;
import io.layerswarm.cache.sim.TraceEvent;
import io.layerswarm.cache.sim.TraceFile;
import io.layerswarm.k8s.scoring.ScoringPolicies;
import io.layerswarm.k8s.sim.PlacementResult;
import io.layerswarm.k8s.sim.PlacementSimulator;
import io.layerswarm.k8s.view.LinkEstimate;
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

/** {@code layerswarm placement-sim}: lets the scheduler's scoring place a deployment trace. */
@Command(name = "placement-sim", mixinStandardHelpOptions = true,
        description = "Place a deployment trace with the extender's scoring policies and report predicted deployment time, "
                + "layer hit ratio and registry bytes per policy and cache capacity.")
public final class PlacementSimCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--trace", required = true, description = "JSON lines trace (trace-gen output).")
    private Path trace;

    @Option(names = "--images", required = true, description = "Images file (trace-gen output).")
    private Path images;

    @Option(names = "--nodes", defaultValue = "8", description = "Nodes (default: ${DEFAULT-VALUE}).")
    private int nodes;

    @Option(names = "--capacity", defaultValue = "0,500MB,1GB,2GB", split = ",",
            description = "Per-node cache capacities (default: ${DEFAULT-VALUE}).")
    private List<String> capacities;

    @Option(names = "--scoring", defaultValue = "trace,image-locality,layer-locality,layer-network,predicted-time", split = ",",
            description = "Policies to compare; 'trace' keeps the trace's own placement (default: ${DEFAULT-VALUE}).")
    private List<String> scorings;

    @Option(names = "--cache-policy", defaultValue = "arc", description = "Node cache policy (default: ${DEFAULT-VALUE}).")
    private String cachePolicy;

    @Option(names = "--slots", defaultValue = "8", description = "Pods a node can run at once (default: ${DEFAULT-VALUE}).")
    private int slots;

    @Option(names = "--pod-window", defaultValue = "32",
            description = "A pod runs until this many later deployments (default: ${DEFAULT-VALUE}).")
    private int podWindow;

    @Option(names = "--registry-mbps", defaultValue = "10,20,30,40", split = ",",
            description = "Registry bandwidth of node i, round-robin, Mbit/s (default: ${DEFAULT-VALUE}).")
    private List<Double> registryMbps;

    @Option(names = "--registry-rtt-ms", defaultValue = "60", description = "Registry RTT (default: ${DEFAULT-VALUE}).")
    private double registryRtt;

    @Option(names = "--peer-mbps", defaultValue = "400", description = "Node-to-node bandwidth (default: ${DEFAULT-VALUE}).")
    private double peerMbps;

    @Option(names = "--peer-rtt-ms", defaultValue = "2", description = "Node-to-node RTT (default: ${DEFAULT-VALUE}).")
    private double peerRtt;

    @Option(names = "--links", defaultValue = "configured", description = "What the scorer sees: configured (the"
            + " link figures above) or measured (what each node would have measured: per-piece samples of its own"
            + " fetches, probe reads; defaults until then). Deployment times use the configured links either way"
            + " (default: ${DEFAULT-VALUE}).")
    private String links;

    @Option(names = "--piece-size", defaultValue = "4MiB", description = "Piece size of the measured links' samples"
            + " (default: ${DEFAULT-VALUE}).")
    private String pieceSize;

    @Option(names = "--probe-bytes", defaultValue = "1MiB", description = "Bandwidth probe read of a link not measured"
            + " yet, with --links measured; 0 = no probes (default: ${DEFAULT-VALUE}).")
    private String probeBytes;

    @Option(names = "--json", description = "Print JSON instead of a Markdown table.")
    private boolean json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PlacementSimulator sim;
        List<Long> caps = new ArrayList<>();
        try {
            for (String c : capacities) {
                caps.add(ByteSize.parse(c));
            }
            for (String s : scorings) {
                if (!s.equals("trace") && !ScoringPolicies.NAMES.contains(s)) {
                    throw new IllegalArgumentException("unknown scoring '" + s + "', expected trace or one of " + ScoringPolicies.NAMES);
                }
            }
            List<LinkEstimate> reg = new ArrayList<>();
            for (double m : registryMbps) {
                reg.add(LinkEstimate.mbps(m, registryRtt));
            }
            List<TraceEvent> events = TraceFile.read(trace);
            sim = new PlacementSimulator(events, ImageCatalog.read(images), nodes, slots, podWindow, cachePolicy, reg,
                    LinkEstimate.mbps(peerMbps, peerRtt));
            if (links.equals("measured")) {
                long piece = ByteSize.parse(pieceSize);
                long probe = ByteSize.parse(probeBytes);
                if (piece < 1 || piece > Integer.MAX_VALUE || probe > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("--piece-size and --probe-bytes must fit in 1..2GiB (probe may be 0)");
                }
                sim = sim.measuredLinks((int) piece, (int) probe);
            } else if (!links.equals("configured")) {
                throw new IllegalArgumentException("unknown --links '" + links + "', expected configured or measured");
            }
        } catch (IllegalArgumentException | java.io.IOException e) {
            err.println("placement-sim: " + e.getMessage());
            return 2;
        }
        List<PlacementResult> results = new ArrayList<>();
        for (long cap : caps) {
            for (String s : scorings) {
                results.add(sim.run(s, cap));
            }
        }
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(results));
        } else {
            out.println("| capacity | scoring | requests | mean predicted time | layer hit ratio | byte hit ratio | peer bytes | registry bytes | max pods/node |");
            out.println("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            for (PlacementResult r : results) {
                out.println(String.format(Locale.ROOT, "| %s | %s | %d | %.2f s | %.4f | %.4f | %s | %s | %d |",
                        ByteSize.format(r.capacityBytes()), r.scoring(), r.requests(), r.meanPredictedSeconds(),
                        r.layerHitRatio(), r.byteHitRatio(), ByteSize.format(r.peerBytes()),
                        ByteSize.format(r.registryBytes()), r.maxPodsOnANode()));
            }
        }
        out.flush();
        return 0;
    }
}
