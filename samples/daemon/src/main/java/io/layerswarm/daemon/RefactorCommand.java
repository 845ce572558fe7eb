package io.layerswarm.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.layerswarm.oci.ImageReference;
import io.layerswarm.oci.Platform;
import io.layerswarm.refactor.RefactorSummary;
import io.layerswarm.refactor.Refactorer;
import io.layerswarm.refactor.RegistryImages;
import io.layerswarm.refactor.SourceImage;
import io.layerswarm.refactor.index.AnalysisReport;
import io.layerswarm.refactor.plan.Mode;
import io.layerswarm.refactor.plan.PlanOptions;
import io.layerswarm.registry.RegistryClient;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code layerswarm refactor analyze|apply}: file-level deduplication of a registry's images. */
@Command(name = "refactor", mixinStandardHelpOptions = true,
        description = "Analyse and rebuild images so duplicated files live in shared layers.",
        subcommands = {RefactorCommand.Analyze.class, RefactorCommand.Apply.class})
public final class RefactorCommand implements Runnable {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Options every registry-reading command shares. */
    static class RegistryOptions {
        @Option(names = "--registry", required = true, description = "Registry base URL, e.g. http://127.0.0.1:5000")
        URI registry;

        @Option(names = "--platform", defaultValue = "linux/amd64", description = "Platform chosen from indexes (default ${DEFAULT-VALUE})")
        String platform;

        @Option(names = "--work-dir", description = "Scratch directory (default: a temp dir, deleted afterwards)")
        Path workDir;

        @Option(names = "--json", description = "Print JSON")
        boolean json;

        RegistryImages images() {
            String[] p = platform.split("/");
            if (p.length < 2 || p.length > 3) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--platform must be os/arch[/variant]");
            }
            return new RegistryImages(RegistryClient.builder(registry).build(),
                    new Platform(p[0], p[1], p.length == 3 ? p[2] : null));
        }

        <T> T inWorkDir(WorkDirTask<T> task) throws IOException {
            Path dir = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("layerswarm-refactor-");
            try {
                return task.run(dir);
            } finally {
                if (workDir == null) {
                    deleteTree(dir);
                }
            }
        }
    }

    /** Work run inside a scratch directory. */
    interface WorkDirTask<T> {
        T run(Path dir) throws IOException;
    }

    static List<ImageReference> parseRefs(List<String> refs) {
        List<ImageReference> out = new ArrayList<>();
        for (String r : refs) {
            out.add(ImageReference.parse(r));
        }
        return out;
    }

    static List<SourceImage> load(RegistryImages images, List<ImageReference> refs) throws IOException {
        List<SourceImage> out = new ArrayList<>();
        for (ImageReference r : refs) {
            out.add(images.load(r));
        }
        return out;
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** {@code refactor analyze}. */
    @Command(name = "analyze", mixinStandardHelpOptions = true,
            description = "Stream images from a registry and report their file-level redundancy.")
    static final class Analyze implements Callable<Integer> {
        @CommandLine.Mixin
        RegistryOptions opts = new RegistryOptions();

        @Option(names = "--image", required = true, description = "REPO:TAG (repeatable)")
        List<String> images;

        @Override
        public Integer call() throws IOException {
            RegistryImages reg = opts.images();
            List<SourceImage> sources = load(reg, parseRefs(images));
            AnalysisReport r = opts.inWorkDir(dir -> new Refactorer(dir).analyze(sources, reg).report());
            if (opts.json) {
                System.out.println(JSON.writeValueAsString(r));
            } else {
                System.out.printf("images=%d files=%d totalBytes=%d redundantBytes=%d (%.1f%%) idealBytes=%d%n",
                        r.images(), r.files(), r.totalBytes(), r.redundantBytes(), 100 * r.redundantShare(), r.idealBytes());
                for (AnalysisReport.ImageStats s : r.perImage()) {
                    System.out.printf("  %s layers=%d files=%d bytes=%d redundantBytes=%d idealBytes=%d%n", s.image(),
                            s.layers(), s.files(), s.bytes(), s.redundantBytes(), s.idealBytes());
                }
            }
            return 0;
        }
    }

    /** {@code refactor apply}. */
    @Command(name = "apply", mixinStandardHelpOptions = true,
            description = "Rebuild images as shared + unique layers and push them as TAG+SUFFIX.")
    static final class Apply implements Callable<Integer> {
        @CommandLine.Mixin
        RegistryOptions opts = new RegistryOptions();

        @Option(names = "--image", required = true, description = "REPO:TAG (repeatable)")
        List<String> images;

        @Option(names = "--suffix", defaultValue = "-rf", description = "Tag suffix of refactored images (default ${DEFAULT-VALUE})")
        String suffix;

        @Option(names = "--min-file-size", defaultValue = "0", description = "Files smaller than this stay in their image's own layer")
        long minFileSize;

        @Option(names = "--max-layers", defaultValue = "100", description = "Maximum layers per refactored image")
        int maxLayers;

        @Option(names = "--mode", defaultValue = "path", description = "path (root filesystem unchanged) or symlink (research layout)")
        String mode;

        @Override
        public Integer call() throws IOException {
            Mode m = switch (mode) {
                case "path" -> Mode.PATH;
                case "symlink" -> Mode.SYMLINK;
                default -> throw new CommandLine.ParameterException(new CommandLine(this),
                        "--mode must be path or symlink, got '" + mode + "'");
            };
            PlanOptions options = new PlanOptions(m, minFileSize, maxLayers);
            RegistryImages reg = opts.images();
            List<ImageReference> refs = parseRefs(images);
            List<SourceImage> sources = load(reg, refs);
            Map<String, Object> out = opts.inWorkDir(dir -> {
                Refactorer.Result r = new Refactorer(dir).refactor(sources, reg, options);
                long t0 = System.nanoTime();
                List<RegistryImages.Pushed> pushed = reg.pushAll(refs, r, suffix);
                long pushMillis = (System.nanoTime() - t0) / 1_000_000;
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("summary", RefactorSummary.of(r, sources));
                o.put("pushed", pushed.stream().map(p -> Map.of("target", p.target().toString(),
                        "manifest", p.manifest().toString(), "uploaded", p.uploaded(), "mounted", p.mounted(),
                        "present", p.present())).toList());
                o.put("pushMillis", pushMillis);
                return o;
            });
            if (opts.json) {
                System.out.println(JSON.writeValueAsString(out));
            } else {
                RefactorSummary s = (RefactorSummary) out.get("summary");
                System.out.printf("mode=%s images=%d sharedLayers=%d registryBytes %d -> %d redundantBytes %d -> %d "
                                + "(%.1f%% removed) layers %d -> %d ms=%d pushMs=%s%n", s.mode(), s.images(), s.sharedLayers(),
                        s.before().registryBlobBytes(), s.after().registryBlobBytes(), s.before().redundantBytes(),
                        s.after().redundantBytes(), 100 * s.redundancyRemoved(), s.before().layers(), s.after().layers(),
                        s.millis(), out.get("pushMillis"));
            }
            return 0;
        }
    }
}
