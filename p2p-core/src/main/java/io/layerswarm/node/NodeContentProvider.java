package io.layerswarm.node;

import io.layerswarm.mirror.Access;
import io.layerswarm.mirror.BlobContent;
import io.layerswarm.mirror.ContentProvider;
import io.layerswarm.mirror.ManifestContent;
import io.layerswarm.mirror.PrivateBlobs;
import io.layerswarm.mirror.PullThroughProvider;
import io.layerswarm.mirror.UpstreamAccess;
import io.layerswarm.node.BlobStore;
import io.layerswarm.node.LayerSwarm;
import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's mirror content: the pull-through provider, plus what a multi-node cluster needs around
 * it: providers of a blob no connected peer holds are found through the DHT and connected before
 * the fetch (while it runs, for a blob of one piece), and a manifest upstream cannot give is asked of peers.
 */
final class NodeContentProvider implements ContentProvider {
    private static final Logger log = LoggerFactory.getLogger(NodeContentProvider.class);
    private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(3);

    private final String namespace;
    private final PullThroughProvider pullThrough;
    private final BlobStore store;
    private final LayerSwarm swarm;
    private final ProviderLookup discovery;
    private final Executor background;
    private final ManifestExchange manifests;
    private final Consumer<Digest> accessed;
    private final java.util.function.Function<Digest, AutoCloseable> pins;
    private final Consumer<NodeEvent.BlobServed> served;
    private final UpstreamAccess access;
    private final PrivateBlobs privateBlobs;

    /**
     * @param accessed told of every blob served (the layer cache counts it as a use)
     * @param pins pins a blob in the layer cache (a layer in use is never evicted)
     * @param served told of every blob handed out
     * @param access who may read what of this upstream
     * @param privateBlobs where blobs fetched for private repositories are marked
     * @param background runs the provider lookup of a blob that does not wait for it
     */
    NodeContentProvider(String namespace, PullThroughProvider pullThrough, BlobStore store, LayerSwarm swarm,
                        ProviderLookup discovery, ManifestExchange manifests, Consumer<Digest> accessed,
                        java.util.function.Function<Digest, AutoCloseable> pins, Consumer<NodeEvent.BlobServed> served,
                        UpstreamAccess access, PrivateBlobs privateBlobs, Executor background) {
        this.background = background;
        this.access = access;
        this.privateBlobs = privateBlobs;
        this.served = served;
        this.namespace = namespace;
        this.pins = pins;
        this.accessed = accessed;
        this.pullThrough = pullThrough;
        this.store = store;
        this.swarm = swarm;
        this.discovery = discovery;
        this.manifests = manifests;
    }

    @Override
    public Optional<ManifestContent> manifest(String repository, String reference, List<String> accept)
            throws IOException {
        try {
            return pullThrough.manifest(repository, reference, accept);
        } catch (IOException upstreamDown) {
            Optional<ManifestContent> fromPeer = manifests.ask(namespace, repository, reference);
            if (fromPeer.isEmpty()) {
                throw upstreamDown;
            }
            log.info("event=manifest_via_peer ns={} repo={} ref={} digest={} upstream_error=\"{}\"", namespace, repository, reference,
                    fromPeer.get().digest(), upstreamDown.getMessage());
            pullThrough.learn(repository, reference, fromPeer.get());
            return fromPeer;
        }
    }

    @Override
    public Access access(String repository, String resource, Optional<String> authorization) {
        return access.check(repository, resource, authorization);
    }

    @Override
    public Optional<BlobContent> blob(String repository, Digest digest) throws IOException {
        // pinned from before the fetch until the response is done (the content's close)
        AutoCloseable pin = pins.apply(digest);
        Optional<BlobContent> b;
        try {
            b = lookup(repository, digest);
        } catch (IOException | RuntimeException e) {
            PinnedBlobContent.release(pin);
            throw e;
        }
        if (b.isEmpty()) {
            PinnedBlobContent.release(pin);
            return b;
        }
        return Optional.of(new PinnedBlobContent(b.get(), pin));
    }

    private Optional<BlobContent> lookup(String repository, Digest digest) throws IOException {
        long start = System.nanoTime();
        boolean held = store.size(digest).isPresent();
        if (!held) {
            markIfPrivate(repository, "blobs/" + digest, digest); // before the fetch starts
        }
        if (!held && holders(digest) == 0) {
            findProviders(digest);
        }
        Optional<BlobContent> b = pullThrough.blob(repository, digest);
        if (b.isPresent()) {
            boolean cached = !b.get().growing(); // it may have been evicted since the check above
            if (cached) {
                accessed.accept(digest); // a fresh commit already counted as a use
            }
            log.info("event=blob_served ns={} repo={} blob={} bytes={} from={} ms={}", namespace, repository, digest, b.get().size(),
                    cached ? "cache" : "fetched", (System.nanoTime() - start) / 1_000_000);
            served.accept(new NodeEvent.BlobServed(namespace, repository, digest, b.get().size(), cached));
        }
        return b;
    }

    /**
     * Connects the DHT's providers of {@code digest}. A blob of one piece (a config, a small layer) does not
     * wait for them: it is fetched at once, from the registry if no connected peer has it, while the lookup
     * runs (a provider found meanwhile is a source like any other). Asking the registry for a few hundred KiB
     * that a provider might have served costs less than the lookup's round trips in its first byte. A larger
     * blob waits for the lookup, at most {@link #LOOKUP_TIMEOUT}, so its pieces come from the providers it finds.
     */
    private void findProviders(Digest digest) {
        OptionalLong size = pullThrough.knownSize(digest);
        if (size.isPresent() && swarm.layoutFor(size.getAsLong()).count() == 1) {
            try {
                background.execute(() -> discovery.connectProviders(digest, LOOKUP_TIMEOUT));
            } catch (RejectedExecutionException e) {
                log.debug("event=provider_lookup_skipped blob={} reason=shutting_down", digest);
            }
            return;
        }
        discovery.connectProviders(digest, LOOKUP_TIMEOUT);
    }

    /** Completes once a running fetch of {@code digest} has been reported as a fetched-blob event. */
    CompletableFuture<Void> reported(Digest digest) {
        return pullThrough.reported(digest);
    }

    /**
     * Marks {@code digest}, about to be stored for {@code repository}, private if the repository
     * needs credentials upstream, so no piece or announcement of it reaches a peer outside the swarm key.
     */
    void markIfPrivate(String repository, String resource, Digest digest) throws IOException {
        if (access.needsCredentials(repository, resource)) {
            privateBlobs.add(digest);
        }
    }

    private int holders(Digest digest) {
        try {
            return swarm.holders(digest).get(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        } catch (Exception e) {
            return 0;
        }
    }
}
