package io.layerswarm.mirror;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.layerswarm.node.BlobStore;
import io.layerswarm.node.LayerSwarm;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import io.layerswarm.registry.ManifestResponse;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.registry.RegistryException;
import io.layerswarm.swarm.DownloadResult;
import io.layerswarm.transfer.RegistryPieceSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pull-through mirror: manifests come from the upstream registry (tags move), blobs from the
 * local store, then from peers through the swarm, then from the upstream registry for whatever no
 * peer can give. Manifests already seen are kept, so a tag still resolves while the upstream
 * registry is unreachable.
 */
public final class PullThroughProvider implements ContentProvider {
    private static final Logger log = LoggerFactory.getLogger(PullThroughProvider.class);

    private final RegistryClient upstream;
    private final BlobStore store;
    private final LayerSwarm swarm;
    private final Executor io;
    private final Duration blobTimeout;
    private final java.util.function.Consumer<DownloadResult> onFetched;
    private final Cache<String, ManifestContent> manifests = Caffeine.newBuilder().maximumSize(4096).build();
    private final Cache<Digest, Long> sizes = Caffeine.newBuilder().maximumSize(100_000).build();
    private final ConcurrentMap<Digest, CompletableFuture<Void>> reporting = new ConcurrentHashMap<>();

    /**
     * @param upstream the registry pulled through
     * @param store this node's store
     * @param swarm this node's swarm
     * @param io runs blocking registry range requests
     * @param blobTimeout bound on getting one blob
     */
    public PullThroughProvider(RegistryClient upstream, BlobStore store, LayerSwarm swarm, Executor io,
                               Duration blobTimeout) {
        this(upstream, store, swarm, io, blobTimeout, r -> { });
    }

    /**
     * Like the other constructor; {@code onFetched} is told where the bytes of every blob this
     * mirror fetched came from (peers or upstream), e.g. for per-node accounting.
     */
    public PullThroughProvider(RegistryClient upstream, BlobStore store, LayerSwarm swarm, Executor io,
                               Duration blobTimeout, java.util.function.Consumer<DownloadResult> onFetched) {
        this.onFetched = Objects.requireNonNull(onFetched, "onFetched");
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.store = Objects.requireNonNull(store, "store");
        this.swarm = Objects.requireNonNull(swarm, "swarm");
        this.io = Objects.requireNonNull(io, "io");
        this.blobTimeout = Objects.requireNonNull(blobTimeout, "blobTimeout");
    }

    @Override
    public Optional<ManifestContent> manifest(String repository, String reference, List<String> accept)
            throws IOException {
        String key = repository + "@" + reference;
        ManifestResponse r;
        try {
            r = upstream.getManifest(repository, reference);
        } catch (RegistryException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            return stale(key, e);
        } catch (IOException e) {
            return stale(key, e);
        }
        ManifestContent mc = new ManifestContent(r.bytes(), r.mediaType(), r.digest());
        manifests.put(key, mc);
        manifests.put(repository + "@" + r.digest(), mc);
        rememberSizes(r);
        return Optional.of(mc);
    }

    /** Answers only for its own upstream registry: a request for another one must not be served from it. */
    @Override
    public Optional<ContentProvider> forNamespace(String namespace) {
        return UpstreamRouter.namespaceOf(upstream.baseUri()).equals(namespace) ? Optional.of(this) : Optional.empty();
    }

    /**
     * A manifest this node has already got from upstream (or learned), by tag or digest, without
     * asking upstream: what a node shares with peers whose upstream is unreachable.
     */
    public Optional<ManifestContent> seen(String repository, String reference) {
        return Optional.ofNullable(manifests.getIfPresent(repository + "@" + reference));
    }

    /**
     * Remembers a manifest obtained elsewhere (e.g. from a peer while upstream is unreachable), so it
     * is served and its blob sizes are known without asking upstream.
     */
    public void learn(String repository, String reference, ManifestContent mc) {
        manifests.put(repository + "@" + reference, mc);
        manifests.put(repository + "@" + mc.digest(), mc);
        rememberSizes(new ManifestResponse(mc.bytes(), mc.mediaType(), mc.digest()));
    }

    private Optional<ManifestContent> stale(String key, IOException cause) throws IOException {
        ManifestContent cached = manifests.getIfPresent(key);
        if (cached == null) {
            throw cause;
        }
        log.warn("event=manifest_stale key={} reason=\"{}\"", key, cause.getMessage());
        return Optional.of(cached);
    }

    private void rememberSizes(ManifestResponse r) {
        try {
            if (r.isIndex()) {
                for (Descriptor d : r.index().manifests()) {
                    sizes.put(d.digest(), d.size());
                }
            } else {
                sizes.put(r.manifest().config().digest(), r.manifest().config().size());
                for (Descriptor d : r.manifest().layers()) {
                    sizes.put(d.digest(), d.size());
                }
            }
        } catch (RuntimeException e) {
            // an unparsable manifest is still served as the registry sent it; its blobs get sized by HEAD
            log.debug("event=manifest_unparsed digest={} error={}", r.digest(), e.toString());
        }
    }

    /**
     * A held blob, or one this call starts (or joins) fetching through the swarm: its content is
     * {@linkplain BlobContent#growing() growing}, streamed in verified pieces as they arrive, its last
     * byte only after the whole blob matched its digest. A held blob is opened here and stays open
     * until the content is closed, so an eviction meanwhile cannot cut the response short; it is
     * re-hashed as it streams, its last bytes only after it matched its digest, and a blob that rotted
     * on disk is deleted (then the next request fetches it again).
     */
    @Override
    public Optional<BlobContent> blob(String repository, Digest digest) throws IOException {
        Optional<FileChannel> held = store.hold(digest);
        if (held.isPresent()) {
            FileChannel file = held.get();
            long size;
            try {
                size = file.size();
            } catch (IOException e) {
                file.close();
                throw e;
            }
            return Optional.of(content(size, false, (offset, length) ->
                    new DigestCheckedStream(file, digest, size, offset, length, () -> swarm.dropCorrupt(digest)), file));
        }
        Long known = sizes.getIfPresent(digest);
        if (known == null) {
            OptionalLong head = upstream.blobSize(repository, digest);
            if (head.isEmpty()) {
                return Optional.empty();
            }
            known = head.getAsLong();
        }
        long size = known;
        // evicting for room may take a while: here, on the caller's thread, not on the swarm's loop
        store.makeRoom(digest, size);
        long start = System.nanoTime();
        long deadline = start + blobTimeout.toNanos();
        CompletableFuture<Void> reported = swarm.fetch(digest, size,
                new RegistryPieceSource(upstream, repository, digest, io)).handle((r, err) -> {
            if (err != null) {
                log.warn("event=blob_fetch_failed ns={} repo={} blob={} error=\"{}\"",
                        UpstreamRouter.namespaceOf(upstream.baseUri()), repository, digest, err.getMessage());
                return null;
            }
            log.info("event=blob_fetched ns={} repo={} blob={} bytes={} peer_bytes={} registry_bytes={} sources={}"
                    + " ms={}", UpstreamRouter.namespaceOf(upstream.baseUri()), repository, digest, size, r.peerBytes(),
                    r.originBytes(), r.bytesBySource().keySet(), (System.nanoTime() - start) / 1_000_000);
            onFetched.accept(r);
            return null;
        });
        reporting.put(digest, reported);
        reported.whenComplete((v, e) -> reporting.remove(digest, reported));
        return Optional.of(content(size, true, (offset, length) -> swarm.openVerified(digest, offset, length, deadline),
                () -> { }));
    }

    /** The size of {@code digest} as a manifest this mirror served gave it, if it did. */
    public OptionalLong knownSize(Digest digest) {
        Long known = sizes.getIfPresent(digest);
        return known == null ? OptionalLong.empty() : OptionalLong.of(known);
    }

    /**
     * Completes once the fetch of {@code digest} last started here has been reported to
     * {@code onFetched} (at once if none is running), so a caller that waited for the commit
     * can also wait for the report: the commit comes first.
     */
    public CompletableFuture<Void> reported(Digest digest) {
        return reporting.getOrDefault(digest, CompletableFuture.completedFuture(null));
    }

    /** Opens a range of a blob. */
    @FunctionalInterface
    private interface RangeOpener {
        InputStream open(long offset, long length) throws IOException;
    }

    private static BlobContent content(long size, boolean growing, RangeOpener opener, java.io.Closeable held) {
        return new BlobContent() {
            @Override
            public long size() {
                return size;
            }

            @Override
            public boolean growing() {
                return growing;
            }

            @Override
            public InputStream open(long offset, long length) throws IOException {
                return opener.open(offset, length);
            }

            @Override
            public void close() throws IOException {
                held.close();
            }
        };
    }
}
