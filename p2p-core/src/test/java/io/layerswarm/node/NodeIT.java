package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.Processes;
import io.layerswarm.testing.RegistryFixture;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole nodes built by {@link Node.Builder}, in one JVM, against the real docker-registry: three
 * nodes find each other through the DHT, pull one corpus image at the same time through the Java API
 * (no HTTP on the nodes' side), write OCI layouts that skopeo reads and unpack identical root
 * filesystems, while the registry sends the image about once.
 */
class NodeIT {
    @TempDir
    Path tmp;
    private final Closer open = new Closer();

    @AfterEach
    void tearDown() throws Exception {
        open.close();
    }

    private <T extends AutoCloseable> T add(T c) {
        open.add(c);
        return c;
    }

    @Test
    void threeNodesPullOneImageThroughTheJavaApiAndTheRegistrySendsItAboutOnce() throws Exception {
        Corpus corpus = Corpus.small();
        Corpus.Image image = corpus.largest();
        RegistryFixture registry = add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        corpus.pushTo(registry.baseUri().toString());
        long pushLogBytes = registry.totalBlobBytesServed();

        List<Node> nodes = new ArrayList<>();
        List<NodeEvent> events = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 3; i++) {
            Node.Builder b = Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve("n" + i))
                    .upstream(registry.baseUri()).noMirror()
                    // patient: the registry-once assertion below tests the protocol, not the machine's speed
                    .claimWait(Duration.ofSeconds(30)).originStall(Duration.ofSeconds(60))
                    .listener(recorder(events));
            if (i > 0) {
                b.bootstrap(nodes.get(0).listenAddrs().get(0));
            }
            nodes.add(add(b.start()));
        }
        // discovery connects everyone (node 2 learns node 1 from node 0's routing table)
        Await.until(Duration.ofSeconds(60), "full mesh",
                () -> nodes.stream().allMatch(n -> n.host().connections().size() == 2));
        assertTrue(events.stream().anyMatch(e -> e instanceof NodeEvent.PeerConnected), "peer events");

        String ns = registry.hostPort();
        assertEquals(List.of(ns), nodes.get(0).namespaces());
        List<CompletableFuture<PulledImage>> pulls = new ArrayList<>();
        for (Node n : nodes) {
            pulls.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return n.pull(ns, image.name(), image.tag(), Platform.linuxAmd64());
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }));
        }
        List<String> trees = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            PulledImage pulled = pulls.get(i).get(5, TimeUnit.MINUTES);
            assertEquals(image.manifestDigest(), pulled.digest().toString(), "the registry's manifest");
            Path layout = tmp.resolve("layout" + i);
            nodes.get(i).writeLayout(pulled, layout);
            String inspect = Processes.run(120, "skopeo", "inspect", "oci:" + layout + ":" + image.tag());
            assertTrue(inspect.contains(image.layers().get(0).digest()), inspect);
            Path rootfs = tmp.resolve("rootfs" + i);
            nodes.get(i).unpack(pulled, rootfs);
            trees.add(tree(rootfs));
        }
        assertTrue(trees.get(0).lines().count() > 50, "a real rootfs: " + trees.get(0).lines().limit(3).toList());
        assertEquals(trees.get(0), trees.get(1));
        assertEquals(trees.get(0), trees.get(2));
        // umoci, an independent unpacker, agrees with the node's on paths, types, links and contents
        // (rootless umoci adjusts some modes, so those are compared between the nodes only)
        Processes.run(120, "umoci", "unpack", "--rootless", "--image", tmp.resolve("layout0") + ":" + image.tag(),
                tmp.resolve("bundle").toString());
        assertEquals(withoutModes(trees.get(0)), withoutModes(tree(tmp.resolve("bundle/rootfs"))));

        long layerBytes = image.layers().stream().mapToLong(Corpus.Layer::size).sum();
        long served = registry.totalBlobBytesServed() - pushLogBytes;
        long peerBytes = events.stream().filter(e -> e instanceof NodeEvent.BlobFetched)
                .mapToLong(e -> ((NodeEvent.BlobFetched) e).peerBytes()).sum();
        System.out.printf("node-it: image=%s layer_bytes=%d registry_blob_bytes=%d ratio=%.3f peer_bytes=%d%n",
                image.ref(), layerBytes, served, (double) served / layerBytes, peerBytes);
        assertTrue(served <= layerBytes * 1.05, "registry sent " + served + " blob bytes to 3 nodes for "
                + layerBytes + " bytes of layers");
        assertTrue(peerBytes > 0, "layers moved between the nodes");
        assertTrue(events.stream().anyMatch(e -> e instanceof NodeEvent.BlobProgress p && p.bytes() > 0),
                "progress events");
        long servedEvents = events.stream().filter(e -> e instanceof NodeEvent.BlobServed).count();
        assertEquals(3L * (image.layers().size() + 1), servedEvents, "each node handed out config and layers once");
    }

    @Test
    void aServiceAddsAProtocolAndStopsBeforeTheNodeWhichClosesOnce() throws Exception {
        RegistryFixture registry = add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        List<String> order = new CopyOnWriteArrayList<>();
        NodeService echo = new NodeService() {
            NodeContext ctx;

            @Override
            public void start(NodeContext context) {
                ctx = context;
                context.host().setBlockingHandler("/test/echo/1.0.0",
                        s -> s.inputStream().transferTo(s.outputStream()));
                order.add("start " + context.store().root().getFileName());
            }

            @Override
            public void close() {
                // the node's parts still run while its services stop
                order.add("close host-running=" + !ctx.host().listenAddrs().isEmpty());
            }
        };
        Node a = add(Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve("a"))
                .upstream(registry.baseUri()).mirrorListen(new InetSocketAddress("127.0.0.1", 0)).service(echo)
                .start());
        Node b = add(Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve("b"))
                .upstream(registry.baseUri()).noMirror().start());
        assertTrue(a.mirrorUrl().isPresent());
        assertTrue(b.mirrorUrl().isEmpty());
        assertFalse(a.peerId().equals(b.peerId()), "distinct identities");
        var s = b.host().newStream(a.listenAddrs().get(0), List.of("/test/echo/1.0.0")).get(10, TimeUnit.SECONDS);
        s.outputStream().write("ping".getBytes(StandardCharsets.UTF_8));
        s.closeWrite();
        assertEquals("ping", new String(s.inputStream().readAllBytes(), StandardCharsets.UTF_8));
        s.close();

        a.close();
        a.close();
        assertEquals(List.of("start a", "close host-running=true"), order);
        assertThrows(IllegalStateException.class, a::peerId, "a closed node says so");
    }

    @Test
    void theKeyLivesInTheStoreDirectoryAndASecondNodeOnItIsRefused() throws Exception {
        RegistryFixture registry = add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        Path dir = tmp.resolve("state");
        Node first = add(Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(dir)
                .upstream(registry.baseUri()).noMirror().start());
        assertTrue(Files.isRegularFile(dir.resolve(Node.KEY_FILE)), "key created inside the store directory");
        PeerId id = first.peerId();
        IOException e = assertThrows(IOException.class, () -> Node.builder()
                .listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(dir).upstream(registry.baseUri())
                .noMirror().start());
        assertTrue(e.getMessage().contains("already open"), e.getMessage());
        first.close();
        try (Node again = Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(dir)
                .upstream(registry.baseUri()).noMirror().start()) {
            assertEquals(id, again.peerId(), "same directory, same identity after a restart");
        }
        assertThrows(IllegalArgumentException.class, () -> Node.builder().build(), "an upstream is required");
        assertThrows(IllegalArgumentException.class, () -> Node.builder().upstream(registry.baseUri())
                .upstream(RegistryClient.builder(registry.baseUri()).build()), "one upstream per host:port");
    }

    private static NodeListener recorder(List<NodeEvent> events) {
        return new NodeListener() {
            @Override
            public void blobProgress(NodeEvent.BlobProgress e) {
                events.add(e);
            }

            @Override
            public void blobFetched(NodeEvent.BlobFetched e) {
                events.add(e);
            }

            @Override
            public void blobServed(NodeEvent.BlobServed e) {
                events.add(e);
            }

            @Override
            public void peerConnected(NodeEvent.PeerConnected e) {
                events.add(e);
            }
        };
    }

    /** Path, type, mode, link target and content hash of every entry, sorted. */
    static String tree(Path root) throws IOException {
        List<String> lines = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = root.relativize(p).toString();
                Set<java.nio.file.attribute.PosixFilePermission> perms = Files.getPosixFilePermissions(p,
                        LinkOption.NOFOLLOW_LINKS);
                String mode = java.nio.file.attribute.PosixFilePermissions.toString(perms);
                if (Files.isSymbolicLink(p)) {
                    lines.add(rel + " l " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    lines.add(rel + " d " + mode);
                } else {
                    lines.add(rel + " f " + mode + " " + sha256(p));
                }
            }
        }
        lines.sort(null);
        return String.join("\n", lines);
    }

    private static String withoutModes(String tree) {
        return tree.lines().map(l -> l.replaceFirst(" ([df]) [rwx-]{9}", " $1")).reduce((a, b) -> a + "\n" + b)
                .orElse("");
    }

    private static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[65536];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
