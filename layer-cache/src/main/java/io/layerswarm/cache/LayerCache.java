package io.layerswarm.cache;

import io.layerswarm.cache.policy.CachePolicy;
import io.layerswarm.cache.policy.ImageRequest;
import io.layerswarm.cache.policy.LayerRef;
import io.layerswarm.cache.policy.PolicyState;
import io.layerswarm.cache.store.BlobInfo;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.cache.store.StoreListener;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The layer cache of a node: applies a {@link CachePolicy} to a {@link ContentStore}. The policy
 * decides, this class acts: every committed blob is admitted, deployments and reads count as
 * accesses, and the blobs the policy evicts are deleted from the store.
 *
 * <p>A layer in use (being extracted, served to a peer, part of a running image) is
 * {@linkplain #pin pinned} and never deleted; its eviction is deferred until the last pin is
 * released. The capacity can change at run time. On {@link #open} the resident set is rebuilt from
 * the store (what is on disk is the truth) and the policy's history from its journal, which is
 * written atomically at {@link #checkpoint}, every {@value #CHECKPOINT_EVERY} changes and on close;
 * a missing or corrupt journal loses history, never blobs.
 *
 * <p>All policy state is owned by one thread (a single-threaded event loop); public methods hand
 * their work to it and wait.
 */
public final class LayerCache implements AutoCloseable {
    /** Changes between automatic journal checkpoints. */
    public static final int CHECKPOINT_EVERY = 64;

    private static final Logger LOG = LoggerFactory.getLogger(LayerCache.class);

    private final ContentStore store;
    private final CachePolicy policy;
    private final Path journal;
    private final ExecutorService loop;
    private final ThreadLocal<Boolean> onLoop = ThreadLocal.withInitial(() -> false);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final StoreListener listener = new StoreListener() {
        @Override
        public void onCommitted(Digest digest, long size) {
            runOnLoop(() -> {
                apply(policy.request(ImageRequest.ofLayer(digest.toString(), size)));
                return null;
            });
        }

        @Override
        public void onDeleted(Digest digest) {
            runOnLoop(() -> {
                policy.remove(digest.toString());
                return null;
            });
        }
    };
    private final java.util.concurrent.atomic.AtomicInteger livePins = new java.util.concurrent.atomic.AtomicInteger();
    private int changes;
    private long evictedBlobs;

    private LayerCache(ContentStore store, CachePolicy policy, Path journal) {
        this.store = store;
        this.policy = policy;
        this.journal = journal;
        this.loop = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(() -> {
                onLoop.set(true);
                r.run();
            }, "layer-cache");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens the cache over {@code store}: rebuilds the resident set from the store's blobs and the
     * policy's history from {@code journal}, evicts what does not fit the policy's capacity, then
     * follows the store's commits and deletions.
     *
     * @param store the content store (the cache does not close it)
     * @param policy a fresh policy with the wanted capacity
     * @param journal where the policy history lives (created on first checkpoint)
     */
    public static LayerCache open(ContentStore store, CachePolicy policy, Path journal) throws IOException {
        LayerCache cache = new LayerCache(store, policy, journal);
        PolicyState state;
        try {
            state = PolicyJournal.read(journal);
        } catch (IOException e) {
            LOG.warn("cache.journal.unreadable file={} reason=\"{}\" action=rebuild-from-store", journal, e.getMessage());
            state = null;
        }
        if (state != null && !policy.name().equals(state.policy())) {
            LOG.warn("cache.journal.other-policy file={} journal={} policy={} action=rebuild-from-store",
                    journal, state.policy(), policy.name());
            state = null;
        }
        PolicyState history = state;
        store.setSpaceReclaimer(cache::reclaim);
        // Register first so a blob committed during the rebuild is not missed; the loop orders both.
        store.addListener(cache.listener);
        cache.runOnLoop(() -> {
            Map<String, Long> onDisk = new LinkedHashMap<>();
            for (BlobInfo b : store.list()) {
                onDisk.put(b.digest().toString(), b.size());
            }
            List<String> evict = policy.restore(history, onDisk);
            LOG.info("cache.open policy={} capacity={} blobs={} bytes={} history={} evict={}", policy.name(),
                    policy.capacity(), onDisk.size(), policy.weightedSize(), history != null, evict.size());
            cache.apply(evict);
            return null;
        });
        return cache;
    }

    /** The policy's name. */
    public String policyName() {
        return policy.name();
    }

    /** The content store this cache manages. */
    public ContentStore store() {
        return store;
    }

    /** Capacity in bytes. */
    public long capacity() {
        return runOnLoop(policy::capacity);
    }

    /** Bytes the policy counts as resident. */
    public long usedBytes() {
        return runOnLoop(policy::weightedSize);
    }

    /** Whether the policy holds {@code digest}. */
    public boolean contains(Digest digest) {
        return runOnLoop(() -> policy.contains(digest.toString()));
    }

    /** Blobs deleted by eviction since open. */
    public long evictedBlobs() {
        return runOnLoop(() -> evictedBlobs);
    }

    /**
     * Records a deployment of {@code image}: its layers that are in the store count as accessed
     * (image-granularity policies also learn the image to layers relation). Layers not yet in the
     * store are admitted when they are committed.
     */
    public void recordImage(String image, List<Descriptor> layers) {
        runOnLoop(() -> {
            List<LayerRef> present = new ArrayList<>();
            for (Descriptor d : layers) {
                if (store.contains(d.digest())) {
                    present.add(new LayerRef(d.digest().toString(), store.size(d.digest()).orElse(d.size())));
                }
            }
            if (!present.isEmpty()) {
                apply(policy.request(new ImageRequest(image, present)));
            }
            return null;
        });
    }

    /** Records a read of a single blob (e.g. served to a peer); ignored if it is not in the store. */
    public void access(Digest digest) {
        runOnLoop(() -> {
            var size = store.size(digest);
            if (size.isPresent()) {
                apply(policy.request(ImageRequest.ofLayer(digest.toString(), size.getAsLong())));
            }
            return null;
        });
    }

    /**
     * Pins {@code digest} (it need not be committed yet): it will not be evicted until the returned
     * pin is closed; pins are counted.
     */
    public Pin pin(Digest digest) {
        String key = digest.toString();
        runOnLoop(() -> {
            policy.pin(key);
            return null;
        });
        livePins.incrementAndGet();
        return new Pin(key);
    }

    /** Pins held now (each {@link #pin} until its close). */
    public int pinCount() {
        return livePins.get();
    }

    /** Changes the capacity now, deleting what no longer fits (pinned layers wait for their unpin). */
    public void setCapacity(long bytes) {
        runOnLoop(() -> {
            LOG.info("cache.capacity from={} to={}", policy.capacity(), bytes);
            apply(policy.setCapacity(bytes));
            return null;
        });
    }

    /**
     * Evicts unpinned layers worth at least {@code bytes}, in the policy's eviction order, because
     * the disk is full (the capacity stays as it is). What is pinned stays, so less may be freed.
     * The store calls this when a new blob does not fit.
     *
     * @return bytes deleted
     */
    public long reclaim(long bytes) {
        return runOnLoop(() -> {
            long before = policy.weightedSize();
            long capacity = policy.capacity();
            // shrinking the capacity makes the policy pick its victims; restoring it evicts nothing more
            List<String> evict = new ArrayList<>(policy.setCapacity(Math.max(0, before - bytes)));
            evict.addAll(policy.setCapacity(capacity));
            apply(evict);
            long freed = before - policy.weightedSize();
            LOG.info("event=cache_reclaim wanted={} freed={} evicted={} pinned={}", bytes, freed, evict.size(),
                    livePins.get());
            return freed;
        });
    }

    /** Writes the policy history to the journal atomically. */
    public void checkpoint() throws IOException {
        try {
            runOnLoop(() -> {
                writeJournal();
                return null;
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Checkpoints, stops following the store and stops the loop. The store stays open. */
    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        store.removeListener(listener);
        store.setSpaceReclaimer(null);
        try {
            submit(() -> {
                writeJournal();
                return null;
            });
        } finally {
            loop.shutdown();
            try {
                loop.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void writeJournal() {
        try {
            PolicyJournal.write(journal, policy.exportState());
            changes = 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes evicted blobs; runs on the loop. */
    private void apply(List<String> evicted) {
        for (String key : evicted) {
            Digest d = Digest.parse(key);
            try {
                if (store.delete(d)) {
                    evictedBlobs++;
                }
                LOG.debug("cache.evict digest={} policy={}", key, policy.name());
            } catch (IOException | IllegalStateException e) {
                LOG.warn("cache.evict.failed digest={} reason=\"{}\"", key, e.getMessage());
            }
        }
        if (++changes >= CHECKPOINT_EVERY) {
            try {
                writeJournal();
            } catch (UncheckedIOException e) {
                LOG.warn("cache.journal.write.failed file={} reason=\"{}\"", journal, e.getCause().getMessage());
            }
        }
    }

    private <T> T runOnLoop(Callable<T> task) {
        if (onLoop.get()) {
            try {
                return task.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        if (closed.get()) {
            throw new IllegalStateException("layer cache is closed");
        }
        return submit(task);
    }

    private <T> T submit(Callable<T> task) {
        Future<T> f = loop.submit(task);
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the layer cache", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            throw new IllegalStateException(c);
        }
    }

    /** A held pin; closing it releases the pin and performs evictions deferred because of it. */
    public final class Pin implements AutoCloseable {
        private final String key;
        private final AtomicBoolean released = new AtomicBoolean();

        private Pin(String key) {
            this.key = key;
        }

        /** Releases the pin (idempotent). */
        @Override
        public void close() {
            if (released.compareAndSet(false, true)) {
                livePins.decrementAndGet();
            } else {
                return;
            }
            if (!closed.get()) {
                runOnLoop(() -> {
                    apply(policy.unpin(key));
                    return null;
                });
            }
        }
    }
}
