package io.layerswarm.daemon;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.Node;
import io.layerswarm.node.PulledImage;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.ImageReference;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.registry.ResolvedImage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code layerswarm pull REF --registry URL --output DIR}: resolves an image for one platform,
 * fetches its blobs concurrently into the content store (each verified before it is committed) and
 * writes an OCI image layout at DIR.
 */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = "Pull an image from a registry into an OCI image layout directory.")
public final class PullCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "REF", description = "Image reference: [host[:port]/]repo[:tag][@digest].")
    String reference;

    @Option(names = "--registry", paramLabel = "URL",
            description = "Registry base URL, e.g. http://127.0.0.1:5000 (default: https://<host of REF>).")
    String registry;

    @Option(names = "--insecure", description = "Skip TLS certificate verification.")
    boolean insecure;

    @Option(names = "--username", description = "User name for Basic auth or token requests.")
    String username;

    @Option(names = "--password-stdin", description = "Read the password from the first line of standard input.")
    boolean passwordStdin;

    @Option(names = "--platform", defaultValue = "linux/amd64", description = "os/arch[/variant] (default: ${DEFAULT-VALUE}).")
    String platform;

    @Option(names = "--output", required = true, paramLabel = "DIR",
            description = "OCI layout directory: created, or added to if it already is a layout.")
    Path output;

    @Option(names = "--store", paramLabel = "DIR", description = "Content store directory (default: ~/.cache/layerswarm/store).")
    Path store;

    @Option(names = "--concurrency", defaultValue = "4", description = "Registry requests in parallel (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--progress", defaultValue = "auto", paramLabel = "MODE", description = "auto (a redrawn status"
            + " line with bytes, rate and ETA on a terminal, else one line per blob), tty or plain"
            + " (default: ${DEFAULT-VALUE}).", converter = ProgressModeConverter.class)
    PullProgress.Mode progress;

    @Option(names = "--bootstrap", paramLabel = "MULTIADDR", description = "a swarm node (with /p2p/<id>) to get"
            + " layers from before the registry; repeatable.")
    List<String> bootstrap = new ArrayList<>();

    @Override
    public Integer call() {
        PrintStream out = System.out;
        try {
            pull(out);
            return 0;
        } catch (Exception e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            System.err.println("error: " + msg.replaceAll("\\s+", " "));
            return 1;
        }
    }

    private void pull(PrintStream out) throws Exception {
        ImageReference ref;
        Platform plat;
        List<Multiaddr> peers = new ArrayList<>();
        try {
            ref = ImageReference.parse(reference);
            plat = Platform.parse(platform);
            for (String b : bootstrap) {
                peers.add(Multiaddr.parse(b));
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        if (concurrency < 1 || concurrency > 64) {
            throw new IllegalArgumentException("--concurrency must be in 1..64");
        }
        URI base = registryUri(ref);
        checkOutputDir(output);
        RegistryClient.Builder b = RegistryClient.builder(base).insecureTls(insecure).maxConcurrentRequests(concurrency);
        if (passwordStdin) {
            if (username == null) {
                throw new IllegalArgumentException("--password-stdin needs --username");
            }
            b.credentials(username, readPassword());
        } else if (username != null) {
            throw new IllegalArgumentException("--username needs --password-stdin");
        }
        RegistryClient client = b.build();
        Path storeDir = store != null ? store : Path.of(System.getProperty("user.home"), ".cache", "layerswarm", "store");
        PullProgress progress = new PullProgress(out, System.err, this.progress.resolve(System.console() != null),
                ref.toString(), blobsOf(client, ref, plat), System::nanoTime);
        // a short-lived node: no listener, no mirror, a throw-away identity; with --bootstrap it gets
        // what the cluster holds from peers and only the rest from the registry
        Node.Builder nb = Node.builder().identity(Ed25519PrivateKey.generate()).noListen().noMirror()
                .storeDir(storeDir).upstream(client).listener(progress);
        peers.forEach(nb::bootstrap);
        try (Node node = nb.start()) {
            PulledImage image = node.pull(node.namespaces().get(0), ref.repository(), ref.reference(), plat);
            progress.finish();
            node.writeLayout(image, output, ref.tag() != null ? ref.tag() : image.digest().toString());
            out.printf("pulled %s (%s) digest=%s to %s: %d blobs, %.1f MiB fetched (%.1f MiB from peers),"
                    + " %d already stored, %.1f s%n", ref, plat, image.digest(), output, image.blobs().size(),
                    progress.fetchedBytes.get() / 1048576.0, progress.peerBytes.get() / 1048576.0, progress.cached.get(),
                    image.elapsed().toNanos() / 1e9);
        }
    }

    /**
     * The image's blobs, for the progress totals and ETA: one manifest lookup ahead of the node's own.
     * Empty when the registry cannot answer now (the node may still get the image from peers); progress
     * then shows bytes and rate without a total.
     */
    private static List<Descriptor> blobsOf(RegistryClient client, ImageReference ref, Platform plat) {
        try {
            ResolvedImage image = client.resolveImage(ref.repository(), ref.reference(), plat);
            List<Descriptor> blobs = new ArrayList<>();
            blobs.add(image.manifest().config());
            blobs.addAll(image.manifest().layers());
            return blobs;
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    private URI registryUri(ImageReference ref) {
        if (registry != null) {
            URI u;
            try {
                u = URI.create(registry);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid --registry '" + registry + "': " + e.getMessage(), e);
            }
            if (u.getScheme() == null || u.getHost() == null) {
                throw new IllegalArgumentException("invalid --registry '" + registry + "': expected http(s)://host[:port]");
            }
            return u;
        }
        if (ref.registry() == null) {
            throw new IllegalArgumentException("reference '" + reference + "' names no registry host: pass --registry URL");
        }
        return URI.create("https://" + ref.registry());
    }

    /** The output must be new, empty, or an existing OCI layout (which the pull adds to). */
    private static void checkOutputDir(Path dir) throws IOException {
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) {
                throw new FileAlreadyExistsException(dir + " exists and is not a directory");
            }
            if (Files.isRegularFile(dir.resolve("oci-layout"))) {
                return;
            }
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new FileAlreadyExistsException("output directory " + dir
                            + " is not empty and not an OCI layout; refusing to overwrite");
                }
            }
        }
    }

    private static String readPassword() throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line = r.readLine();
        if (line == null || line.isEmpty()) {
            throw new IllegalArgumentException("--password-stdin: no password on standard input");
        }
        return line;
    }
}

/** {@code --progress auto|tty|plain}, case-insensitive, with a one-line error for anything else. */
final class ProgressModeConverter implements picocli.CommandLine.ITypeConverter<PullProgress.Mode> {
    @Override
    public PullProgress.Mode convert(String value) {
        try {
            return PullProgress.Mode.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not one of auto, tty, plain");
        }
    }
}
