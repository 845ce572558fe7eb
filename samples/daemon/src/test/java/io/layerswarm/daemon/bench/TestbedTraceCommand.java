package io.layerswarm.daemon.bench;

import io.layerswarm.cache.sim.TraceEvent;
import io.layerswarm.cache.sim.TraceFile;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Writes the testbed trace: a {@code trace-gen} trace scaled by {@link TestbedTrace}. Run by {@code scripts/bench/testbed.sh}. */
@Command(name = "testbed-trace", mixinStandardHelpOptions = true, description = "Scale a trace-gen trace to the testbed.")
public final class TestbedTraceCommand implements Callable<Integer> {
    @Option(names = "--trace", required = true, description = "trace-gen output (JSON lines).")
    Path in;

    @Option(names = "--out", required = true, description = "Where to write the testbed trace.")
    Path out;

    @Option(names = "--requests", defaultValue = "120", description = "Requests (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--span-s", defaultValue = "600", description = "Seconds the requests spread over (default: ${DEFAULT-VALUE}).")
    long spanSeconds;

    @Option(names = "--images", required = true, split = ",", description = "Testbed images, most popular first.")
    List<String> images;

    @Option(names = "--clusters", defaultValue = "2", description = "Clusters (default: ${DEFAULT-VALUE}).")
    int clusters;

    public static void main(String[] args) {
        System.exit(new CommandLine(new TestbedTraceCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        List<TraceEvent> scaled;
        try {
            scaled = TestbedTrace.scale(TraceFile.read(in), count, spanSeconds * 1000, images, clusters);
        } catch (IllegalArgumentException e) {
            System.err.println("testbed-trace: " + e.getMessage());
            return 2;
        }
        try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            TraceFile.write(scaled, w);
        }
        return 0;
    }
}
