package io.layerswarm.daemon;

import io.layerswarm.cache.layout.OciLayoutWriter;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.ImageReference;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.ManifestResponse;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.registry.ResolvedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
    private static final int FETCH_ATTEMPTS = 3;

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

    @Option(names = "--concurrency", defaultValue = "4", description = "Blobs fetched in parallel (default: ${DEFAULT-VALUE}).")
    int concurrency;

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
        try {
            ref = ImageReference.parse(reference);
            plat = Platform.parse(platform);
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
        long start = System.nanoTime();
        ResolvedImage image = client.resolveImage(ref.repository(), ref.reference(), plat);

        List<Descriptor> blobs = new ArrayList<>();
        blobs.add(image.manifest().config());
        blobs.addAll(image.manifest().layers());
        Path storeDir = store != null ? store : Path.of(System.getProperty("user.home"), ".cache", "layerswarm", "store");
        Progress progress = new Progress(out, System.console() != null, blobs);
        try (ContentStore cs = ContentStore.open(storeDir)) {
            ManifestResponse m = image.manifestResponse();
            cs.ingest(m.digest(), m.bytes().length, new ByteArrayInputStream(m.bytes()));
            fetchAll(client, cs, ref.repository(), blobs, progress);
            progress.finish();
            writeLayout(cs, output, m, blobs, ref, plat);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        out.printf("pulled %s (%s) digest=%s to %s: %d blobs, %.1f MiB fetched, %d already stored, %.1f s%n",
                ref, plat, image.manifestDigest(), output, blobs.size(), progress.fetchedBytes.get() / 1048576.0,
                progress.cached.get(), secs);
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

    private void fetchAll(RegistryClient client, ContentStore cs, String repo, List<Descriptor> blobs, Progress progress)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(concurrency, r -> {
            Thread t = new Thread(r, "pull-fetch");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (Descriptor d : blobs) {
                futures.add(pool.submit(() -> {
                    fetchOne(client, cs, repo, d, progress);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    futures.forEach(x -> x.cancel(true));
                    throw e.getCause() instanceof Exception ex ? ex : e;
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void fetchOne(RegistryClient client, ContentStore cs, String repo, Descriptor d, Progress progress)
            throws IOException {
        if (cs.contains(d.digest())) {
            progress.cachedBlob(d);
            return;
        }
        for (int attempt = 1; ; attempt++) {
            long[] counted = new long[1];
            try (InputStream in = progress.counting(client.openBlob(repo, d.digest(), d.size()), counted)) {
                cs.ingest(d.digest(), d.size(), in); // verified by the store before commit
                progress.blobDone(d);
                return;
            } catch (IOException e) {
                // Wrong content or a 4xx (missing, forbidden) will not change on retry.
                boolean permanent = e instanceof io.layerswarm.oci.DigestMismatchException
                        || e instanceof io.layerswarm.registry.RegistryException re && re.status() >= 400 && re.status() < 500;
                if (permanent || attempt >= FETCH_ATTEMPTS) {
                    throw e;
                }
                progress.fetchedBytes.addAndGet(-counted[0]); // that attempt's bytes are discarded
            }
        }
    }

    /**
     * Adds the blobs (hard-linked from the store when possible) and the manifest to the layout and
     * names it; {@code index.json} is replaced last and atomically, so it never points at missing blobs.
     */
    private static void writeLayout(ContentStore cs, Path dir, ManifestResponse manifest, List<Descriptor> blobs,
                                    ImageReference ref, Platform platform) throws IOException {
        OciLayoutWriter w = OciLayoutWriter.create(dir);
        for (Descriptor d : blobs) {
            w.addBlob(cs, d.digest());
        }
        w.addBlob(cs, manifest.digest());
        String name = ref.tag() != null ? ref.tag() : manifest.digest().toString();
        w.tag(new Descriptor(manifest.mediaType(), manifest.digest(), manifest.bytes().length, List.of(), Map.of(), platform),
                name);
        w.commit();
    }

    /** Byte and blob counters, shown as a redrawn bar on a terminal or as one line per blob otherwise. */
    static final class Progress {
        private final PrintStream out;
        private final boolean terminal;
        private final long totalBytes;
        private final int totalBlobs;
        final AtomicLong fetchedBytes = new AtomicLong();
        final AtomicInteger done = new AtomicInteger();
        final AtomicInteger cached = new AtomicInteger();
        private final long start = System.nanoTime();
        private volatile long lastDraw;

        Progress(PrintStream out, boolean terminal, List<Descriptor> blobs) {
            this.out = out;
            this.terminal = terminal;
            this.totalBytes = blobs.stream().mapToLong(Descriptor::size).sum();
            this.totalBlobs = blobs.size();
        }

        /** Counts bytes read into the totals and into {@code counted[0]}. */
        InputStream counting(InputStream in, long[] counted) {
            return new FilterInputStream(in) {
                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    if (n > 0) {
                        counted[0] += n;
                        fetchedBytes.addAndGet(n);
                        maybeDraw();
                    }
                    return n;
                }
            };
        }

        void cachedBlob(Descriptor d) {
            cached.incrementAndGet();
            blobDone(d, "already in store");
        }

        void blobDone(Descriptor d) {
            blobDone(d, "fetched");
        }

        private synchronized void blobDone(Descriptor d, String how) {
            int n = done.incrementAndGet();
            if (terminal) {
                draw();
            } else {
                out.printf("blob %s %s %d bytes (%d/%d)%n", d.digest(), how, d.size(), n, totalBlobs);
            }
        }

        private void maybeDraw() {
            long now = System.nanoTime();
            if (terminal && now - lastDraw > 100_000_000L) {
                lastDraw = now;
                draw();
            }
        }

        private synchronized void draw() {
            long bytes = fetchedBytes.get();
            double frac = totalBytes == 0 ? 1 : Math.min(1.0, (double) bytes / totalBytes);
            int width = 30;
            int filled = (int) Math.round(frac * width);
            double secs = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
            System.err.printf("\r[%s%s] %3d%% %.1f/%.1f MiB %d/%d blobs %.1f MiB/s ", "#".repeat(filled),
                    ".".repeat(width - filled), (int) (frac * 100), bytes / 1048576.0, totalBytes / 1048576.0,
                    done.get(), totalBlobs, bytes / 1048576.0 / secs);
        }

        void finish() {
            if (terminal) {
                draw();
                System.err.println();
            }
        }
    }
}
