package io.layerswarm.cache.bench;

import io.layerswarm.cache.layer.ApplyStats;
import io.layerswarm.cache.layer.LayerApplier;
import io.layerswarm.cache.store.ContentStore;
import io.layerswarm.cache.store.PartialBlob;
import io.layerswarm.cache.tools.TarBuilder;
import io.layerswarm.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Throughput of the content store (streamed ingest, 4-thread piece-wise assembly) and of layer
 * application. Prints one line per measurement; see BENCHMARKS.md for the command.
 */
public final class StoreApplyBench {
    private StoreApplyBench() {
    }

    /** Args: [blob MiB, default 128] [files in the layer, default 5000]. */
    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 128;
        int files = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
        Path tmp = Files.createTempDirectory("layerswarm-bench");
        try {
            byte[] blob = new byte[mib << 20];
            new Random(1).nextBytes(blob);
            Digest d = Digest.sha256(blob);
            for (int round = 0; round < 3; round++) {
                Path root = tmp.resolve("store" + round);
                try (ContentStore store = ContentStore.open(root)) {
                    long t0 = System.nanoTime();
                    store.ingest(d, blob.length, new ByteArrayInputStream(blob));
                    report("ingest", round, blob.length, System.nanoTime() - t0);
                    store.delete(d);
                    t0 = System.nanoTime();
                    assemble(store, d, blob);
                    report("partial-4-threads-1MiB-pieces", round, blob.length, System.nanoTime() - t0);
                }
            }
            TarBuilder layer = new TarBuilder();
            Random rnd = new Random(2);
            long content = 0;
            for (int i = 0; i < files; i++) {
                byte[] f = new byte[rnd.nextInt(16_384)];
                rnd.nextBytes(f);
                content += f.length;
                layer.file("d" + (i % 100) + "/f" + i, f, 0644);
            }
            byte[] gz = TarBuilder.gzip(layer.tar());
            for (int round = 0; round < 3; round++) {
                Path root = Files.createDirectory(tmp.resolve("rootfs" + round));
                long t0 = System.nanoTime();
                ApplyStats s = new LayerApplier().apply(new ByteArrayInputStream(gz), null, root);
                long ns = System.nanoTime() - t0;
                System.out.printf("bench=apply-gzip round=%d files=%d bytes=%d ms=%.1f files_per_s=%.0f MiB_per_s=%.1f%n",
                        round, s.files(), content, ns / 1e6, s.files() / (ns / 1e9), content / 1048576.0 / (ns / 1e9));
            }
        } finally {
            try (var w = Files.walk(tmp)) {
                w.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void assemble(ContentStore store, Digest d, byte[] blob) throws Exception {
        int piece = 1 << 20;
        List<Integer> offsets = new ArrayList<>();
        for (int off = 0; off < blob.length; off += piece) {
            offsets.add(off);
        }
        Collections.shuffle(offsets, new Random(3));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (PartialBlob pb = store.openPartial(d, blob.length)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int off : offsets) {
                fs.add(pool.submit(() -> {
                    pb.write(off, ByteBuffer.wrap(blob, off, Math.min(piece, blob.length - off)));
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            pb.commit();
        } finally {
            pool.shutdownNow();
        }
    }

    private static void report(String what, int round, long bytes, long ns) throws IOException {
        System.out.printf("bench=%s round=%d bytes=%d ms=%.1f MiB_per_s=%.1f%n",
                what, round, bytes, ns / 1e6, bytes / 1048576.0 / (ns / 1e9));
    }
}
