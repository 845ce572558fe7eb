package io.layerswarm.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.Node;
import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.NodeListener;
import io.layerswarm.node.PulledImage;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.oci.ImageConfig;
import io.layerswarm.oci.ImageReference;
import io.layerswarm.oci.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * A small edge runtime built on an embedded LayerSwarm {@link Node}: it deploys images through the
 * node's Java API (resolve, get every blob through the swarm, write an OCI image layout, unpack a
 * root filesystem) without any HTTP on its own side, and keeps serving what it holds to the other
 * runtimes of the cluster. Starting a container from the rootfs is left to the host's OCI runtime;
 * the deployment reports the command the image's config names.
 *
 * <p>Directory layout under {@code dir}: {@code node/} (the node's store, key and cache journal),
 * {@code images/<repo>/<tag>/} (OCI layouts), {@code containers/<repo>-<tag>/rootfs/}.
 */
public final class EdgeRuntime implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Node node;
    private final Path dir;
    private final Map<Digest, long[]> fetched = new ConcurrentHashMap<>();

    /**
     * One deployed image.
     *
     * @param image what was pulled
     * @param layout the OCI image layout written
     * @param rootfs the unpacked root filesystem
     * @param command the entrypoint and command of the image config (empty when it names none)
     * @param peerBytes blob bytes this deployment got from peers
     * @param registryBytes blob bytes it got from the registry
     * @param elapsed time from resolve to unpacked rootfs
     */
    public record Deployment(PulledImage image, Path layout, Path rootfs, List<String> command, long peerBytes,
                             long registryBytes, Duration elapsed) {
        /** Copies the command. */
        public Deployment {
            command = List.copyOf(command);
        }
    }

    private EdgeRuntime(Node node, Path dir) {
        this.node = node;
        this.dir = dir;
    }

    /**
     * Starts the runtime's node.
     *
     * @param dir the runtime's directory
     * @param registry the upstream registry
     * @param listen libp2p listen address ({@code /ip4/0.0.0.0/tcp/4001} on a real edge worker)
     * @param bootstrap peers of the cluster to join through (each with {@code /p2p/<id>}); may be empty
     */
    public static EdgeRuntime start(Path dir, URI registry, Multiaddr listen, List<Multiaddr> bootstrap)
            throws IOException {
        Node.Builder b = Node.builder()
                .storeDir(dir.resolve("node"))
                .listen(listen)
                .upstream(registry)
                .noMirror(); // deployments go through the Java API, not HTTP
        bootstrap.forEach(b::bootstrap);
        Node node = b.build();
        EdgeRuntime rt = new EdgeRuntime(node, dir);
        node.addListener(new NodeListener() {
            @Override
            public void blobFetched(NodeEvent.BlobFetched e) {
                rt.fetched.put(e.blob(), new long[] {e.peerBytes(), e.registryBytes()});
            }
        });
        node.start();
        return rt;
    }

    /** The embedded node (peer id, addresses, listeners). */
    public Node node() {
        return node;
    }

    /**
     * Deploys {@code repository:tag} for linux/amd64: pulls it through the swarm, writes its OCI layout
     * and unpacks its rootfs (replacing an earlier one is the caller's business: the rootfs must not exist).
     */
    public Deployment deploy(String repository, String tag) throws IOException {
        long start = System.nanoTime();
        PulledImage image = node.pull(node.namespaces().get(0), repository, tag, Platform.linuxAmd64());
        Path layout = dir.resolve("images").resolve(repository).resolve(tag);
        node.writeLayout(image, layout);
        Path rootfs = dir.resolve("containers").resolve(repository.replace('/', '-') + "-" + tag).resolve("rootfs");
        node.unpack(image, rootfs);
        long peer = 0;
        long registry = 0;
        for (Descriptor d : image.blobs()) {
            long[] bytes = fetched.getOrDefault(d.digest(), new long[2]);
            peer += bytes[0];
            registry += bytes[1];
        }
        return new Deployment(image, layout, rootfs, command(image), peer, registry,
                Duration.ofNanos(System.nanoTime() - start));
    }

    /** Entrypoint + Cmd from the image config, as the OCI image spec combines them. */
    private List<String> command(PulledImage image) throws IOException {
        ImageConfig config;
        try (InputStream in = node.store().open(image.imageManifest().config().digest())) {
            config = ImageConfig.parse(in.readAllBytes());
        }
        List<String> out = new ArrayList<>();
        if (config.config() != null) {
            JsonNode c = JSON.readTree(config.config());
            for (String key : List.of("Entrypoint", "Cmd")) {
                c.path(key).forEach(v -> out.add(v.asText()));
            }
        }
        return out;
    }

    @Override
    public void close() {
        node.close();
    }

    /**
     * {@code EdgeRuntime --registry URL --dir DIR [--listen MULTIADDR] [--bootstrap MULTIADDR]... [--serve] IMAGE...}:
     * deploys each {@code repo:tag}, prints one line per deployment, then with {@code --serve} keeps
     * sharing its layers until killed.
     */
    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        URI registry = null;
        Path dir = null;
        Multiaddr listen = Multiaddr.parse("/ip4/0.0.0.0/tcp/4001");
        List<Multiaddr> bootstrap = new ArrayList<>();
        List<ImageReference> images = new ArrayList<>();
        boolean serve = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--registry" -> registry = URI.create(value(args, ++i, "--registry"));
                    case "--dir" -> dir = Path.of(value(args, ++i, "--dir"));
                    case "--listen" -> listen = Multiaddr.parse(value(args, ++i, "--listen"));
                    case "--bootstrap" -> bootstrap.add(Multiaddr.parse(value(args, ++i, "--bootstrap")));
                    case "--serve" -> serve = true;
                    default -> {
                        if (args[i].startsWith("-")) {
                            throw new IllegalArgumentException("unknown option " + args[i]);
                        }
                        images.add(ImageReference.parse(args[i]));
                    }
                }
            }
            if (registry == null || dir == null) {
                throw new IllegalArgumentException("usage: EdgeRuntime --registry URL --dir DIR [--listen MULTIADDR]"
                        + " [--bootstrap MULTIADDR]... [--serve] REPO:TAG...");
            }
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        try (EdgeRuntime rt = start(dir, registry, listen, bootstrap)) {
            for (Multiaddr a : rt.node().listenAddrs()) {
                out.println("listening " + a);
            }
            for (ImageReference ref : images) {
                Deployment d = rt.deploy(ref.repository(), ref.tag() == null ? "latest" : ref.tag());
                out.printf("deployed %s:%s digest=%s rootfs=%s command=%s peer_bytes=%d registry_bytes=%d ms=%d%n",
                        d.image().repository(), d.image().reference(), d.image().digest(), d.rootfs(), d.command(),
                        d.peerBytes(), d.registryBytes(), d.elapsed().toMillis());
            }
            out.flush();
            if (serve) {
                CountDownLatch stop = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "edge-runtime-stop"));
                stop.await();
            }
            return 0;
        } catch (Exception e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage();
            err.println("error: " + m.replaceAll("\\s+", " "));
            return 1;
        }
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }
}
