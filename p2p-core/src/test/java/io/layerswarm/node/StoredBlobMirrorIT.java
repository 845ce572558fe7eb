package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.layerswarm.cache.LayerCache;
import io.layerswarm.cache.policy.LruPolicy;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.mirror.BlobContent;
import io.layerswarm.mirror.ContentProvider;
import io.layerswarm.mirror.DistributionServer;
import io.layerswarm.mirror.ManifestContent;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.oci.Digest;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.RegistryFixture;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A blob the mirror serves from the node's own store, against the real docker-registry: a blob that
 * rotted on disk never reaches a client whole and is dropped (then fetched again), and an eviction
 * between the mirror's lookup and its streaming does not cut the response short.
 */
class StoredBlobMirrorIT {
    @TempDir
    Path tmp;
    private final Closer closer = new Closer();
    /** The small corpus's largest image in the real registry, and its largest layer. */
    private Corpus.Image image;
    private Corpus.Layer layer;
    private byte[] good;
    private Digest digest;
    private RegistryFixture registry;

    @BeforeEach
    void setUp() throws Exception {
        Corpus corpus = Corpus.small();
        image = corpus.largest();
        layer = image.layers().stream().max((x, y) -> Long.compare(x.size(), y.size())).orElseThrow();
        good = Files.readAllBytes(image.blob(layer.digest()));
        digest = Digest.parse(layer.digest());
        registry = closer.add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
        corpus.pushTo(registry.baseUri().toString());
    }

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
    }

    @Test
    void aRottedBlobIsNeverServedWholeIsDroppedAndIsFetchedAgain() throws Exception {

        Node a = closer.add(Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve("a"))
                .upstream(registry.baseUri()).mirrorListen(new InetSocketAddress("127.0.0.1", 0)).start());
        Node b = closer.add(Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve("b"))
                .upstream(registry.baseUri()).noMirror().bootstrap(a.listenAddrs().get(0)).start());
        URI blobUri = a.mirrorUrl().orElseThrow().resolve("/v2/" + image.name() + "/blobs/" + digest);

        HttpResponse<byte[]> first = get(blobUri);
        assertEquals(200, first.statusCode());
        assertArrayEquals(good, first.body(), "first pull through the mirror");
        Await.until(Duration.ofSeconds(60), "node a holds the blob and node b has heard so",
                () -> a.store().contains(digest) && holders(b, digest) == 1);

        rot(a.store().blobPath(digest), good.length / 2);

        // the client must never get the whole wrong blob: a 200 whose body is complete would be a failure
        try {
            HttpResponse<byte[]> rotten = get(blobUri);
            assertFalse(rotten.statusCode() == 200 && rotten.body().length == good.length,
                    "the rotted blob was served whole with a 200");
        } catch (IOException expected) {
            // the response was cut short before its last bytes: what a client must see
        }
        Await.until(Duration.ofSeconds(60), "node a drops the rotted blob and node b stops counting on it",
                () -> !a.store().contains(digest) && holders(b, digest) == 0);

        HttpResponse<byte[]> again = get(blobUri);
        assertEquals(200, again.statusCode());
        assertArrayEquals(good, again.body(), "the next request fetches the blob again");
        Await.until(Duration.ofSeconds(60), "node a holds a good copy again", () -> a.store().contains(digest));
        a.store().verify(digest);
    }

    @Test
    void aNodeAskedByAPeerForARottedBlobDropsItAndThePeerStillGetsAGoodCopy() throws Exception {
        Node a = closer.add(Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve("a"))
                .upstream(registry.baseUri()).noMirror().start());
        Node b = closer.add(Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve("b"))
                .upstream(registry.baseUri()).noMirror().bootstrap(a.listenAddrs().get(0)).start());
        a.pull(image.name(), image.tag());
        b.pull(image.name(), image.tag()); // b asks a for the layer's pieces (and their hashes)
        Await.until(Duration.ofSeconds(60), "node b holds the layer", () -> b.store().contains(digest));

        rot(a.store().blobPath(digest), layer.size() - 1); // in the last piece, shorter than the others
        b.store().delete(digest);
        Await.until(Duration.ofSeconds(60), "node b hears that a still holds the layer", () -> holders(b, digest) == 1);
        AtomicInteger rejected = new AtomicInteger();
        b.swarm().addListener(new SwarmListener() {
            @Override
            public void pieceRejected(Digest blob, String source) {
                rejected.incrementAndGet();
            }
        });
        b.pull(image.name(), image.tag());

        b.store().verify(digest);
        // a knows the piece hashes (computed for b, or kept from its own download): it checks a piece before sending it
        assertEquals(0, rejected.get(), "node a sent node b a rotted piece");
        Await.until(Duration.ofSeconds(60), "node a, asked for the rotted layer, drops it",
                () -> !a.store().contains(digest));
    }

    @Test
    void anEvictionBetweenLookupAndStreamingDoesNotCutTheResponseShort() throws Exception {

        ContentStore store = closer.add(ContentStore.open(tmp.resolve("store")));
        LayerCache cache = closer.add(LayerCache.open(store, new LruPolicy(1L << 30), tmp.resolve("cache.journal")));
        store.ingest(digest, good.length, new ByteArrayInputStream(good));
        ExecutorService pool = Executors.newCachedThreadPool();
        closer.add(pool::shutdownNow);
        Host host = closer.add(Host.builder(Ed25519PrivateKey.generate())
                .listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).build().start());
        SwarmBlobStore blobs = new SwarmBlobStore(store);
        LayerSwarm swarm = closer.add(LayerSwarm.start(host, blobs, SwarmConfig.defaults()));
        PullThroughProvider mirror = new PullThroughProvider(RegistryClient.builder(registry.baseUri()).build(), blobs,
                swarm, pool, Duration.ofMinutes(2));
        // the hook: the cache evicts everything right after the lookup found the blob, before the body streams
        ContentProvider evictAfterLookup = new ContentProvider() {
            @Override
            public Optional<ManifestContent> manifest(String repository, String reference, List<String> accept)
                    throws IOException {
                return mirror.manifest(repository, reference, accept);
            }

            @Override
            public Optional<BlobContent> blob(String repository, Digest d) throws IOException {
                Optional<BlobContent> found = mirror.blob(repository, d);
                cache.setCapacity(0);
                return found;
            }
        };
        DistributionServer server = closer.add(DistributionServer.start(new InetSocketAddress("127.0.0.1", 0),
                evictAfterLookup));
        URI blobUri = URI.create(server.url()).resolve("/v2/" + image.name() + "/blobs/" + digest);

        HttpResponse<byte[]> r = get(blobUri);
        assertFalse(store.contains(digest), "the hook evicted the blob before the body was sent");
        assertEquals(1, cache.evictedBlobs());
        assertEquals(200, r.statusCode());
        assertArrayEquals(good, r.body(), "the whole blob, from the file opened at lookup");
        Await.until(Duration.ofSeconds(30), "the evicted blob's file is closed with the response",
                () -> openFilesUnder(store.root()) == 0);
    }

    private static HttpResponse<byte[]> get(URI uri) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(2)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static int holders(Node n, Digest d) {
        try {
            return n.swarm().holders(d).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("swarm did not answer", e);
        }
    }

    /** Flips one byte of a committed blob in place, as bit rot would: same file, same size. */
    private static void rot(Path blob, long at) throws IOException {
        Files.setPosixFilePermissions(blob, PosixFilePermissions.fromString("rw-r--r--"));
        try (FileChannel ch = FileChannel.open(blob, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, at);
            one.put(0, (byte) (one.get(0) ^ 0x40)).rewind();
            ch.write(one, at);
        }
        Files.setPosixFilePermissions(blob, PosixFilePermissions.fromString("r--r--r--"));
    }

    /** Files of this process open below {@code root}, from /proc/self/fd (deleted files included). */
    private static long openFilesUnder(Path root) {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    return ""; // closed meanwhile
                }
            }).filter(t -> t.startsWith(root.resolve("blobs").toString())).count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
