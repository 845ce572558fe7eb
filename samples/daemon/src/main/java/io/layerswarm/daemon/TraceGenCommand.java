package io.layerswarm.daemon;

import io.layerswarm.cache.sim.ImageCatalog;
import io.layerswarm.cache.sim.TraceFile;
import io.layerswarm.cache.sim.TraceGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code layerswarm trace-gen}: writes a seeded synthetic deployment trace and its images file. */
@Command(name = "trace-gen", mixinStandardHelpOptions = true,
        description = "Generate a deployment trace (IBM registry workload shape) and derived images from a base images file.")
public final class TraceGenCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--base-images", required = true, description = "Images file of the real base images (the corpus).")
    private Path base;

    @Option(names = "--out-trace", required = true, description = "Where to write the trace (JSON lines).")
    private Path outTrace;

    @Option(names = "--out-images", required = true, description = "Where to write the derived images file.")
    private Path outImages;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--nodes", defaultValue = "8", description = "Nodes (default: ${DEFAULT-VALUE}).")
    private int nodes;

    @Option(names = "--requests", defaultValue = "40000", description = "Image pulls (default: ${DEFAULT-VALUE}).")
    private int requests;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        TraceGenerator.Generated g;
        try {
            ImageCatalog baseImages = ImageCatalog.read(base);
            g = TraceGenerator.generate(baseImages, TraceGenerator.Params.defaults().with(seed, nodes, requests));
        } catch (IllegalArgumentException | IOException e) {
            err.println("trace-gen: " + e.getMessage());
            return 2;
        }
        try (OutputStream o = Files.newOutputStream(outImages)) {
            g.images().write(o);
        }
        try (Writer w = Files.newBufferedWriter(outTrace, StandardCharsets.UTF_8)) {
            TraceFile.write(g.events(), w);
        }
        err.println(String.format(Locale.ROOT,
                "trace-gen images=%d distinctLayerBytes=%d requests=%d topOnePercentShare=%.3f",
                g.images().size(), g.images().distinctLayerBytes(), g.events().size(), g.topOnePercentShare()));
        err.flush();
        return 0;
    }
}
