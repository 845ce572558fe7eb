package io.layerswarm.daemon.demo;

import io.layerswarm.cache.layer.LayerApplier;
import io.layerswarm.cache.layout.OciLayoutWriter;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Platform;
import io.layerswarm.registry.RegistryClient;
import io.layerswarm.registry.ResolvedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;

/**
 * Deploys an image on one node the way a runtime would: resolve the manifest, fetch every blob
 * (concurrently, each verified by the store before it is committed), write an OCI image layout and
 * unpack the layers into a root filesystem.
 */
public final class Deployment {
    private Deployment() {
    }

    /**
     * What one deployment did.
     *
     * @param elapsed wall time from resolve to unpacked rootfs
     * @param blobBytes bytes of the config and layers
     * @param rootfs the unpacked root filesystem
     */
    public record Result(Duration elapsed, long blobBytes, Path rootfs) {
    }

    /**
     * Pulls {@code repository:tag} with {@code client} into {@code store}, writes the layout at
     * {@code layoutDir} and unpacks the layers at {@code rootfs}.
     */
    public static Result run(RegistryClient client, String repository, String tag, ContentStore store, Path layoutDir,
                             Path rootfs, ExecutorService pool) throws IOException {
        return run(client, repository, tag, store, layoutDir, rootfs, true, pool);
    }

    /**
     * Like {@link #run(RegistryClient, String, String, ContentStore, Path, Path, ExecutorService)};
     * with {@code unpack == false} the rootfs stays empty (benchmarks of distribution alone).
     */
    public static Result run(RegistryClient client, String repository, String tag, ContentStore store, Path layoutDir,
                             Path rootfs, boolean unpack, ExecutorService pool) throws IOException {
        long start = System.nanoTime();
        ResolvedImage image = client.resolveImage(repository, tag, Platform.parse("linux/amd64"));
        List<Descriptor> blobs = new ArrayList<>();
        blobs.add(image.manifest().config());
        blobs.addAll(image.manifest().layers());
        List<CompletableFuture<Void>> fetches = new ArrayList<>();
        for (Descriptor d : blobs) {
            fetches.add(CompletableFuture.runAsync(() -> {
                try (InputStream in = client.openBlob(repository, d.digest(), d.size())) {
                    store.ingest(d.digest(), d.size(), in);
                } catch (IOException e) {
                    throw new CompletionException(e);
                }
            }, pool));
        }
        try {
            CompletableFuture.allOf(fetches.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
        OciLayoutWriter w = OciLayoutWriter.create(layoutDir);
        for (Descriptor d : blobs) {
            w.addBlob(store, d.digest());
        }
        w.tag(image.manifest(), tag);
        w.commit();
        Files.createDirectories(rootfs);
        LayerApplier applier = new LayerApplier();
        for (Descriptor layer : unpack ? image.manifest().layers() : List.<Descriptor>of()) {
            try (InputStream in = store.open(layer.digest())) {
                applier.apply(in, layer.mediaType(), rootfs);
            }
        }
        return new Result(Duration.ofNanos(System.nanoTime() - start),
                blobs.stream().mapToLong(Descriptor::size).sum(), rootfs);
    }
}
